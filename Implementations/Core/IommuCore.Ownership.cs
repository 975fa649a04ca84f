using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Core;

public sealed partial class IommuCore
{
    /// <summary>
    /// iommu_device_use_default_domain() - a DMA-API driver is about to bind. Return: 0 without a group;
    /// -EPROBE_DEFER before the default domain exists; -EBUSY when the group is user-owned or off its default.
    /// </summary>
    public Errno DeviceUseDefaultDomain(Device dev)
    {
        // Caller is the driver core during the pre-probe path.
        var group = dev.Group;
        if (group is null) return OK;
        lock (group.Mutex)
        {
            // We may race against a bus probe that has not set up the default domain yet.
            if (group.DefaultDomain is null) return EPROBE_DEFER;
            if (group.OwnerCnt != 0 && (group.Domain != group.DefaultDomain || group.Owner is not null || HasPasidsLocked(group)))
                return EBUSY;
            group.OwnerCnt++;
            return OK;
        }
    }

    /// <summary>iommu_device_unuse_default_domain() - the driver unbound; WARNs (and keeps the count) if unbalanced.</summary>
    public void DeviceUnuseDefaultDomain(Device dev)
    {
        // Caller is the driver core during the post-probe path.
        var group = dev.Group;
        if (group is null) return;
        lock (group.Mutex)
        {
            if (group.OwnerCnt == 0 || HasPasidsLocked(group))
            {
                WarnOn(Warn.UnuseDefaultDomainUnbalanced);
                return;
            }
            group.OwnerCnt--;
        }
    }

    /// <summary>
    /// iommu_device_claim_dma_owner() - claim the device's group for <paramref name="owner"/>; claims with the
    /// same token stack. Return: -EINVAL (WARN) for a NULL owner; -ENODEV without a group; -EPERM when another
    /// owner (or a DMA-API driver) holds it; else as taking ownership.
    /// </summary>
    public Errno DeviceClaimDmaOwner(Device dev, string? owner)
    {
        // Seeded bug claim_owner_null_leaks_group: before a6a9a5da6808 a group reference was taken before the
        // NULL-owner check, and that early return never put it. The errno order is the fixed one.
        var leaked = Bugs.IsOn(BugCatalogue.ClaimOwnerNullLeaksGroup) ? GroupGet(dev) : null;
        if (owner is null)
        {
            WarnOn(Warn.ClaimDmaOwnerNull);
            return EINVAL;
        }
        if (leaked is not null) GroupPut(leaked);

        // Caller must be a probed driver on dev.
        var group = dev.Group;
        if (group is null) return ENODEV;
        lock (group.Mutex)
        {
            if (group.OwnerCnt != 0)
            {
                if (group.Owner != owner) return EPERM;
                group.OwnerCnt++;
                return OK;
            }
            return TakeDmaOwnershipLocked(group, owner);
        }
    }

    /// <summary>iommu_device_release_dma_owner() - drop one claim; the last one releases the group.</summary>
    public void DeviceReleaseDmaOwner(IommuGroup group)
    {
        lock (group.Mutex)
        {
            if (group.OwnerCnt > 1)
                group.OwnerCnt--;
            else
                ReleaseDmaOwnershipLocked(group);
        }
    }

    /// <summary>
    /// iommu_group_claim_dma_owner() - exclusive claim of a whole group. Return: -EINVAL (WARN) for a NULL
    /// owner; -EPERM while the group has any user; else as taking ownership.
    /// </summary>
    public Errno GroupClaimDmaOwner(IommuGroup group, string? owner)
    {
        if (owner is null)
        {
            WarnOn(Warn.ClaimDmaOwnerNull);
            return EINVAL;
        }
        lock (group.Mutex)
        {
            if (group.OwnerCnt != 0) return EPERM;
            return TakeDmaOwnershipLocked(group, owner);
        }
    }

    /// <summary>iommu_group_release_dma_owner() - give the group back to the DMA API.</summary>
    public void GroupReleaseDmaOwner(IommuGroup group)
    {
        lock (group.Mutex) ReleaseDmaOwnershipLocked(group);
    }

    // __iommu_take_dma_ownership(): park the group on its blocking domain. -EBUSY off the default domain; a
    // refusal (require_direct: -EINVAL) changes nothing but the blocking domain, which stays with the group.
    private Errno TakeDmaOwnershipLocked(IommuGroup group, string owner)
    {
        AssertLocked(group);
        if ((group.Domain is not null && group.Domain != group.DefaultDomain) || HasPasidsLocked(group)) return EBUSY;

        GroupAllocBlockingDomainLocked(group);
        var ret = SetDomainLocked(group, group.BlockingDomain!);
        if (ret != OK) return ret;

        group.Owner = owner;
        group.OwnerCnt++;
        return OK;
    }

    // __iommu_release_dma_ownership(): WARN and do nothing when not user-owned.
    private void ReleaseDmaOwnershipLocked(IommuGroup group)
    {
        AssertLocked(group);
        if (group.OwnerCnt == 0 || group.Owner is null || HasPasidsLocked(group))
        {
            WarnOn(Warn.ReleaseDmaOwnerNotOwned);
            return;
        }
        group.OwnerCnt = 0;
        group.Owner = null;
        SetDomainNoFailLocked(group, group.DefaultDomain);
    }
}
