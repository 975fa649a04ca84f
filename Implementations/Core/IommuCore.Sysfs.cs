using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Core;

public sealed partial class IommuCore
{
    /// <summary>iommu_group_show_type() - the default domain's type, "unknown" without one.</summary>
    public string GroupShowType(IommuGroup group)
    {
        lock (group.Mutex) return group.DefaultDomain?.Type.SysfsName() ?? GroupTypeStrings.Unknown;
    }

    /// <summary>
    /// iommu_group_store_type() - change the default domain type (the writer has the capabilities). Return:
    /// -EINVAL for no default domain, an unknown string or a type the devices cannot have; -EPERM while the
    /// group has users (except DMA → DMA-FQ, done in place); allocation errors. On failure nothing changes.
    /// </summary>
    public Errno GroupStoreType(IommuGroup group, string buf)
    {
        if (group.DefaultDomain is null) return EINVAL;
        DomainType reqType;
        switch (buf)
        {
            case GroupTypeStrings.Identity: reqType = DomainType.Identity; break;
            case GroupTypeStrings.Dma: reqType = DomainType.Dma; break;
            case GroupTypeStrings.DmaFq: reqType = DomainType.DmaFq; break;
            case GroupTypeStrings.Auto: reqType = DomainTypes.NoPreference; break;
            default: return EINVAL;
        }

        lock (group.Mutex)
        {
            // We can bring up a flush queue without tearing down the domain (iommu_dma_init_fq cannot fail here;
            // mainline does not consult IOMMU_CAP_DEFERRED_FLUSH on this path).
            if (reqType == DomainType.DmaFq && group.DefaultDomain?.Type == DomainType.Dma)
            {
                group.DefaultDomain.Type = DomainType.DmaFq;
                return OK;
            }

            // Otherwise the group must have devices and no user at all.
            // Seeded bug sysfs_type_ignores_owner: the owner_cnt test is skipped.
            if (group.Devices.Count == 0 || (group.OwnerCnt != 0 && !Bugs.IsOn(BugCatalogue.SysfsTypeIgnoresOwner)))
                return EPERM;

            var ret = SetupDefaultDomain(group, reqType);
            if (ret != OK) return ret;

            // Make sure the DMA ops match the new domain.
            foreach (var gdev in group.Devices) SetupDmaOps(gdev.Dev);
            return OK;
        }
    }
}
