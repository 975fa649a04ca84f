using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>DMA ownership: kernel DMA-API drivers (use/unuse the default domain) and user owners (claim/release).</summary>
public sealed partial class ModelState
{
    /// <summary>
    /// <c>driver_bind {dev}</c> — driver core bind + <c>iommu_device_use_default_domain</c>: a driver already bound
    /// → EBUSY; no group → bound, OK; no default domain → EPROBE_DEFER; <c>owner_cnt &gt; 0</c> and (domain ≠
    /// default or an owner set) → EBUSY; else <c>owner_cnt++</c>, bound. On failure nothing changes.
    /// </summary>
    private ModelStep DriverBind(DriverBind op)
    {
        if (bound.Contains(op.Dev)) return Fail(Errno.EBUSY);
        var withDriver = With(bound: bound.Add(op.Dev));
        if (GroupFor(op.Dev) is not { } g) return Ok(withDriver);
        if (g.Default is null) return Fail(Errno.EPROBE_DEFER);
        if (g.OwnerCount > 0 && (g.Current != DomainRef.Default || g.Owner is not null || HasPasids(g))) return Fail(Errno.EBUSY);
        return Ok(withDriver.WithGroup(g with { OwnerCount = g.OwnerCount + 1 }));
    }

    /// <summary>
    /// <c>driver_unbind {dev}</c> — driver core unbind + <c>iommu_device_unuse_default_domain</c>: no driver bound
    /// → ENODEV; else unbound, and in a group <c>owner_cnt == 0</c> → <see cref="Warn.UnuseDefaultDomainUnbalanced"/>
    /// (nothing else), else <c>owner_cnt--</c>. OK.
    /// </summary>
    private ModelStep DriverUnbind(DriverUnbind op)
    {
        if (!bound.Contains(op.Dev)) return Fail(Errno.ENODEV);
        var (next, warnings) = UnbindDriver(op.Dev);
        return Ok(next, warnings);
    }

    /// <summary>The unbind of a bound driver, shared by <c>driver_unbind</c> and <c>release</c>.</summary>
    private (ModelState Next, string[] Warnings) UnbindDriver(string dev)
    {
        var unbound = With(bound: bound.Remove(dev));
        if (GroupFor(dev) is not { } g) return (unbound, []);
        if (g.OwnerCount == 0 || HasPasids(g)) return (unbound, [Warn.UnuseDefaultDomainUnbalanced]);
        return (unbound.WithGroup(g with { OwnerCount = g.OwnerCount - 1 }), []);
    }

    /// <summary>
    /// <c>claim_dma_owner {dev, owner}</c> — <c>iommu_device_claim_dma_owner</c>: owner null →
    /// <see cref="Warn.ClaimDmaOwnerNull"/>, EINVAL; no group → ENODEV; <c>owner_cnt != 0</c>: the same owner →
    /// <c>owner_cnt++</c>, OK; another (also the NULL owner of DMA-API drivers) → EPERM; else take ownership.
    /// </summary>
    private ModelStep ClaimDmaOwner(ClaimDmaOwner op)
    {
        if (op.Owner is null) return Fail(Errno.EINVAL, Warn.ClaimDmaOwnerNull);
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        if (g.OwnerCount != 0)
            return g.Owner == op.Owner ? Ok(WithGroup(g with { OwnerCount = g.OwnerCount + 1 })) : Fail(Errno.EPERM);
        return TakeDmaOwnership(g, op.Owner);
    }

    /// <summary>
    /// <c>release_dma_owner {dev}</c> — <c>iommu_device_release_dma_owner</c>: no group → ENODEV;
    /// <c>owner_cnt &gt; 1</c> → <c>owner_cnt--</c>; else release ownership. OK.
    /// </summary>
    private ModelStep ReleaseDmaOwner(ReleaseDmaOwner op)
    {
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        if (g.OwnerCount > 1) return Ok(WithGroup(g with { OwnerCount = g.OwnerCount - 1 }));
        return ReleaseDmaOwnership(g);
    }

    /// <summary>
    /// <c>claim_group_dma_owner {dev, owner}</c> — <c>iommu_group_claim_dma_owner</c>: no group → ENODEV; owner
    /// null → <see cref="Warn.ClaimDmaOwnerNull"/>, EINVAL; <c>owner_cnt != 0</c> → EPERM; else take ownership.
    /// </summary>
    private ModelStep ClaimGroupDmaOwner(ClaimGroupDmaOwner op)
    {
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        if (op.Owner is null) return Fail(Errno.EINVAL, Warn.ClaimDmaOwnerNull);
        if (g.OwnerCount != 0) return Fail(Errno.EPERM);
        return TakeDmaOwnership(g, op.Owner);
    }

    /// <summary><c>release_group_dma_owner {dev}</c> — <c>iommu_group_release_dma_owner</c>: no group → ENODEV; else release ownership. OK.</summary>
    private ModelStep ReleaseGroupDmaOwner(ReleaseGroupDmaOwner op) =>
        GroupFor(op.Dev) is { } g ? ReleaseDmaOwnership(g) : Fail(Errno.ENODEV);

    /// <summary>
    /// <c>__iommu_take_dma_ownership</c>: a current domain other than the default → EBUSY; the group switches to
    /// its blocking domain (a <c>require_direct</c> member refuses: EINVAL, nothing changes); then
    /// <c>owner = token</c>, <c>owner_cnt = 1</c>.
    /// </summary>
    private ModelStep TakeDmaOwnership(GroupState g, string owner)
    {
        if ((g.Current is { } current && current != DefaultOf(g)) || HasPasids(g)) return Fail(Errno.EBUSY);
        var (errno, next, warnings) = SetDomain(g, BlockingOf(g));
        if (errno != Errno.OK) return FailLeaving(errno, g, next, warnings);
        return Ok(WithGroup(next with { Owner = owner, OwnerCount = 1 }));
    }

    /// <summary>
    /// <c>__iommu_release_dma_ownership</c>: not owned (<c>owner_cnt == 0</c> or owner NULL) →
    /// <see cref="Warn.ReleaseDmaOwnerNotOwned"/>, nothing changes; else <c>owner_cnt = 0</c>, <c>owner = NULL</c>,
    /// and the group returns to its default domain with MUST_SUCCEED (a refusal warns; so does a NULL default, which
    /// leaves the group where it is). OK.
    /// </summary>
    private ModelStep ReleaseDmaOwnership(GroupState g)
    {
        if (g.OwnerCount == 0 || g.Owner is null || HasPasids(g)) return Ok(this, Warn.ReleaseDmaOwnerNotOwned);
        var (next, warnings) = SetDomainNoFail(g with { Owner = null, OwnerCount = 0 }, DefaultOf(g));
        return Ok(WithGroup(next), warnings);
    }
}
