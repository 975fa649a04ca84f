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
        if (SysfsStreq(buf, GroupTypeStrings.Identity)) reqType = DomainType.Identity;
        else if (SysfsStreq(buf, GroupTypeStrings.Dma)) reqType = DomainType.Dma;
        else if (SysfsStreq(buf, GroupTypeStrings.DmaFq)) reqType = DomainType.DmaFq;
        else if (SysfsStreq(buf, GroupTypeStrings.Auto)) reqType = DomainTypes.NoPreference;
        else return EINVAL;

        lock (group.Mutex)
        {
            // We can bring up a flush queue without tearing down the domain (mainline does not consult
            // IOMMU_CAP_DEFERRED_FLUSH on this path).
            if (reqType == DomainType.DmaFq && group.DefaultDomain?.Type == DomainType.Dma)
            {
                if (group.DefaultDomain is Drivers.PagingDomain paging && Dma.InitFq(paging) != OK) return ENOMEM;
                group.DefaultDomain.Type = DomainType.DmaFq;
                return OK;
            }

            // Otherwise the group must have no user at all. (The kernel also refuses an empty group; the caller
            // here found the group through a member, so it never is.)
            // Seeded bug sysfs_type_ignores_owner: the owner_cnt test is skipped.
            if (group.OwnerCnt != 0 && !Bugs.IsOn(BugCatalogue.SysfsTypeIgnoresOwner)) return EPERM;

            var ret = SetupDefaultDomainLocked(group, reqType);
            if (ret != OK) return ret;

            // Make sure the DMA ops match the new domain.
            foreach (var gdev in group.Devices) SetupDmaOps(gdev.Dev, group.DefaultDomain!);
            return OK;
        }
    }

    // sysfs_streq(): equal as C strings (a NUL ends them), or equal but for one trailing newline on either side.
    private static bool SysfsStreq(string s1, string s2)
    {
        static char At(string s, int k) => k < s.Length ? s[k] : '\0';
        var k = 0;
        while (At(s1, k) != '\0' && At(s1, k) == At(s2, k)) k++;
        var (c1, c2) = (At(s1, k), At(s2, k));
        if (c1 == c2) return true;
        return (c1 == '\0' && c2 == '\n' && At(s2, k + 1) == '\0') || (c1 == '\n' && At(s1, k + 1) == '\0' && c2 == '\0');
    }
}
