namespace IommuConformance.Contract;

/// <summary>
/// One step of a trace: an operation of the contract's vocabulary (spec §4), named as in traces.
/// Arguments name objects by the names the topology (<c>dev</c>) or an earlier step's <c>as</c> gave them.
/// <see cref="Fields"/> lists the arguments in their canonical order, with the trace's field names:
/// <c>dev</c> always names a device, <c>domain</c> a domain handle, <c>as</c> binds a new handle.
/// </summary>
public abstract record Operation
{
    /// <summary>The trace name of the operation, e.g. <c>attach_device</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The arguments, in canonical order, as (field, value); a null value is JSON null.</summary>
    public abstract IEnumerable<(string Field, string? Value)> Fields();

    /// <summary>Sealed so that every operation prints as in traces: <c>attach_device {domain: d1, dev: dev0}</c>.</summary>
    public sealed override string ToString() =>
        $"{Name} {{{string.Join(", ", Fields().Select(f => $"{f.Field}: {f.Value ?? "null"}"))}}}";
}

// ---- devices and groups ----

/// <summary><c>probe {dev}</c>: iommu_probe_device() on the hotplug path.</summary>
public sealed record Probe(string Dev) : Operation
{
    public override string Name => "probe";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev)];
}

/// <summary><c>release {dev}</c>: device removal: the driver core unbinds its driver, then iommu_release_device().</summary>
public sealed record Release(string Dev) : Operation
{
    public override string Name => "release";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev)];
}

/// <summary><c>get_domain {dev}</c>: iommu_get_domain_for_dev(), answered by name.</summary>
public sealed record GetDomain(string Dev) : Operation
{
    public override string Name => "get_domain";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev)];
}

/// <summary><c>group_type_read {dev}</c>: read /sys/kernel/iommu_groups/N/type.</summary>
public sealed record GroupTypeRead(string Dev) : Operation
{
    public override string Name => "group_type_read";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev)];
}

/// <summary><c>group_type_write {dev, type}</c>: write /sys/kernel/iommu_groups/N/type (with privileges).</summary>
public sealed record GroupTypeWrite(string Dev, string Type) : Operation
{
    public override string Name => "group_type_write";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev), ("type", Type)];
}

// ---- domains ----

/// <summary><c>domain_alloc_paging {dev, as, flags?}</c>: iommu_paging_domain_alloc_flags(); flags null or "dirty_tracking".</summary>
public sealed record DomainAllocPaging(string Dev, string As, string? Flags = null) : Operation
{
    public override string Name => "domain_alloc_paging";
    public override IEnumerable<(string, string?)> Fields() =>
        Flags is null ? [("dev", Dev), ("as", As)] : [("dev", Dev), ("as", As), ("flags", Flags)];
}

/// <summary><c>domain_free {domain}</c>: iommu_domain_free() through the handle table.</summary>
public sealed record DomainFree(string Domain) : Operation
{
    public override string Name => "domain_free";
    public override IEnumerable<(string, string?)> Fields() => [("domain", Domain)];
}

// ---- attach ----

/// <summary><c>attach_device {domain, dev}</c>: iommu_attach_device().</summary>
public sealed record AttachDevice(string Domain, string Dev) : Operation
{
    public override string Name => "attach_device";
    public override IEnumerable<(string, string?)> Fields() => [("domain", Domain), ("dev", Dev)];
}

/// <summary><c>detach_device {domain, dev}</c>: iommu_detach_device().</summary>
public sealed record DetachDevice(string Domain, string Dev) : Operation
{
    public override string Name => "detach_device";
    public override IEnumerable<(string, string?)> Fields() => [("domain", Domain), ("dev", Dev)];
}

/// <summary><c>attach_group {domain, dev}</c>: iommu_attach_group() on the group of <c>dev</c>.</summary>
public sealed record AttachGroup(string Domain, string Dev) : Operation
{
    public override string Name => "attach_group";
    public override IEnumerable<(string, string?)> Fields() => [("domain", Domain), ("dev", Dev)];
}

/// <summary><c>detach_group {domain, dev}</c>: iommu_detach_group() on the group of <c>dev</c>.</summary>
public sealed record DetachGroup(string Domain, string Dev) : Operation
{
    public override string Name => "detach_group";
    public override IEnumerable<(string, string?)> Fields() => [("domain", Domain), ("dev", Dev)];
}

// ---- ownership ----

/// <summary><c>driver_bind {dev}</c>: the driver core binds a DMA-API driver: iommu_device_use_default_domain().</summary>
public sealed record DriverBind(string Dev) : Operation
{
    public override string Name => "driver_bind";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev)];
}

/// <summary><c>driver_unbind {dev}</c>: the driver core unbinds it: iommu_device_unuse_default_domain().</summary>
public sealed record DriverUnbind(string Dev) : Operation
{
    public override string Name => "driver_unbind";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev)];
}

/// <summary><c>claim_dma_owner {dev, owner}</c>: iommu_device_claim_dma_owner(); owner null is the NULL owner.</summary>
public sealed record ClaimDmaOwner(string Dev, string? Owner) : Operation
{
    public override string Name => "claim_dma_owner";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev), ("owner", Owner)];
}

/// <summary><c>release_dma_owner {dev}</c>: iommu_device_release_dma_owner().</summary>
public sealed record ReleaseDmaOwner(string Dev) : Operation
{
    public override string Name => "release_dma_owner";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev)];
}

/// <summary><c>claim_group_dma_owner {dev, owner}</c>: iommu_group_claim_dma_owner() on the group of <c>dev</c>.</summary>
public sealed record ClaimGroupDmaOwner(string Dev, string? Owner) : Operation
{
    public override string Name => "claim_group_dma_owner";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev), ("owner", Owner)];
}

/// <summary><c>release_group_dma_owner {dev}</c>: iommu_group_release_dma_owner() on the group of <c>dev</c>.</summary>
public sealed record ReleaseGroupDmaOwner(string Dev) : Operation
{
    public override string Name => "release_group_dma_owner";
    public override IEnumerable<(string, string?)> Fields() => [("dev", Dev)];
}
