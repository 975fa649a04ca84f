using IommuConformance.Contract;
using IommuConformance.Implementations.Drivers;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Core;

public sealed partial class IommuCore
{
    /// <summary>
    /// iommu_paging_domain_alloc_flags() - a new UNMANAGED domain for <paramref name="dev"/>'s driver.
    /// Return: -ENODEV when the device has no IOMMU; the driver's errno (-EOPNOTSUPP for unsupported flags).
    /// </summary>
    public Errno PagingDomainAllocFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain) =>
        // No lock, as in the kernel: keeping dev->iommu stable (the device probed and not released meanwhile) is
        // the caller's duty; iommufd holds its bound device, VFIO the device file.
        PagingDomainAllocFlags(dev, DomainType.Unmanaged, flags, out domain);

    // __iommu_paging_domain_alloc_flags(): the driver allocates, the core initialises (iommu_domain_init).
    private Errno PagingDomainAllocFlags(Device dev, DomainType type, HwptAllocFlags flags, out IommuDomain? domain)
    {
        domain = null;
        if (dev.Iommu is not { } devIommu) return ENODEV;   // !dev_has_iommu(dev)
        var ops = devIommu.IommuDev.Ops;
        var ret = ops.DomainAllocPagingFlags(dev, flags, out domain);
        if (ret != OK) return ret;
        // iommu_domain_init()
        domain!.Type = type;
        domain.Owner = ops.Owner;
        if (domain is PagingDomain paging) paging.Bugs = Bugs;
        TrackDomain(domain);
        if (!type.IsDma()) return OK;
        // iommu_get_dma_cookie(): a DMA domain's IOVA cookie (initialised later by iommu_dma_init_domain()); on
        // failure the domain is freed and the error returned.
        if (AllocFails(Warn.FaultSites.Cookie, dev))
        {
            DomainFree(domain);
            domain = null;
            return ENOMEM;
        }
        Dma.GetDmaCookie(domain);
        return OK;
    }

    // __iommu_alloc_identity_domain(): the driver's static identity domain, if it has one.
    private static Errno AllocIdentityDomain(Device dev, out IommuDomain? domain)
    {
        domain = dev.Iommu!.IommuDev.Ops.IdentityDomain;
        return domain is null ? EOPNOTSUPP : OK;
    }

    // __iommu_group_alloc_blocking_domain(): the driver's static blocked domain, kept by the group until its last
    // device goes. (The kernel's fallback, an empty paging domain, is left out: both drivers here have one.)
    private void GroupAllocBlockingDomainLocked(IommuGroup group)
    {
        AssertLocked(group);
        group.BlockingDomain ??= group.FirstDev.Iommu!.IommuDev.Ops.BlockedDomain
            ?? throw new InvalidOperationException($"{group}: the driver has no blocked_domain");
    }

    /// <summary>
    /// iommu_domain_free() - release the cookie and call ops->free. Static domains have no free callback. The
    /// kernel does not check that the domain is detached: the emulated hardware reports any user left.
    /// </summary>
    public void DomainFree(IommuDomain domain)
    {
        if (domain.IsStatic) return;
        domain.Freed = true;
        UntrackDomain(domain);
        Dma.PutDmaCookie(domain);
        domain.Ops.Free(domain);
        if (domain is SvaDomain sva) MmDrop(sva.Mm);   // the SVA domain's mmgrab
    }
}
