using IommuConformance.Contract.Vocabulary;
using static IommuConformance.Contract.Args;

namespace IommuConformance.Contract;

/// <summary><c>driver_bind {dev}</c>: the driver core binds a DMA-API driver: iommu_device_use_default_domain().</summary>
public sealed record DriverBind(string Dev) : Operation
{
    public static readonly OpSpec<DriverBind> Entry = new("driver_bind", [Args.Dev], v => new(S(v, 0)), o => [V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>driver_unbind {dev}</c>: the driver core unbinds it: iommu_device_unuse_default_domain().</summary>
public sealed record DriverUnbind(string Dev) : Operation
{
    public static readonly OpSpec<DriverUnbind> Entry = new("driver_unbind", [Args.Dev], v => new(S(v, 0)), o => [V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>claim_dma_owner {dev, owner}</c>: iommu_device_claim_dma_owner(); owner null is the NULL owner.</summary>
public sealed record ClaimDmaOwner(string Dev, string? Owner) : Operation
{
    public static readonly OpSpec<ClaimDmaOwner> Entry =
        new("claim_dma_owner", [Args.Dev, Args.Owner], v => new(S(v, 0), v[1].Text), o => [V(o.Dev), V(o.Owner)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>release_dma_owner {dev}</c>: iommu_device_release_dma_owner().</summary>
public sealed record ReleaseDmaOwner(string Dev) : Operation
{
    public static readonly OpSpec<ReleaseDmaOwner> Entry = new("release_dma_owner", [Args.Dev], v => new(S(v, 0)), o => [V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>claim_group_dma_owner {dev, owner}</c>: iommu_group_claim_dma_owner() on the group of <c>dev</c>.</summary>
public sealed record ClaimGroupDmaOwner(string Dev, string? Owner) : Operation
{
    public static readonly OpSpec<ClaimGroupDmaOwner> Entry =
        new("claim_group_dma_owner", [Args.Dev, Args.Owner], v => new(S(v, 0), v[1].Text), o => [V(o.Dev), V(o.Owner)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>release_group_dma_owner {dev}</c>: iommu_group_release_dma_owner() on the group of <c>dev</c>.</summary>
public sealed record ReleaseGroupDmaOwner(string Dev) : Operation
{
    public static readonly OpSpec<ReleaseGroupDmaOwner> Entry =
        new("release_group_dma_owner", [Args.Dev], v => new(S(v, 0)), o => [V(o.Dev)]);
    public override OpSpec Spec => Entry;
}
