using IommuConformance.Contract.Vocabulary;
using static IommuConformance.Contract.Args;

namespace IommuConformance.Contract;

/// <summary><c>domain_alloc_paging {dev, as, flags?}</c>: iommu_paging_domain_alloc_flags(); flags null or "dirty_tracking".</summary>
public sealed record DomainAllocPaging(string Dev, string As, string? Flags = null) : Operation
{
    public static readonly OpSpec<DomainAllocPaging> Entry = new("domain_alloc_paging", [Args.Dev, Args.As, AllocFlag],
        v => new(S(v, 0), S(v, 1), v[2].Text), o => [V(o.Dev), V(o.As), V(o.Flags)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>domain_free {domain}</c>: iommu_domain_free() through the handle table.</summary>
public sealed record DomainFree(string Domain) : Operation
{
    public static readonly OpSpec<DomainFree> Entry = new("domain_free", [Args.Domain], v => new(S(v, 0)), o => [V(o.Domain)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>attach_device {domain, dev}</c>: iommu_attach_device().</summary>
public sealed record AttachDevice(string Domain, string Dev) : Operation
{
    public static readonly OpSpec<AttachDevice> Entry =
        new("attach_device", [Args.Domain, Args.Dev], v => new(S(v, 0), S(v, 1)), o => [V(o.Domain), V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>detach_device {domain, dev}</c>: iommu_detach_device().</summary>
public sealed record DetachDevice(string Domain, string Dev) : Operation
{
    public static readonly OpSpec<DetachDevice> Entry =
        new("detach_device", [Args.Domain, Args.Dev], v => new(S(v, 0), S(v, 1)), o => [V(o.Domain), V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>attach_group {domain, dev}</c>: iommu_attach_group() on the group of <c>dev</c>.</summary>
public sealed record AttachGroup(string Domain, string Dev) : Operation
{
    public static readonly OpSpec<AttachGroup> Entry =
        new("attach_group", [Args.Domain, Args.Dev], v => new(S(v, 0), S(v, 1)), o => [V(o.Domain), V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>detach_group {domain, dev}</c>: iommu_detach_group() on the group of <c>dev</c>.</summary>
public sealed record DetachGroup(string Domain, string Dev) : Operation
{
    public static readonly OpSpec<DetachGroup> Entry =
        new("detach_group", [Args.Domain, Args.Dev], v => new(S(v, 0), S(v, 1)), o => [V(o.Domain), V(o.Dev)]);
    public override OpSpec Spec => Entry;
}
