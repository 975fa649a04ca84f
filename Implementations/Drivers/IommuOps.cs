using IommuConformance.Contract;
using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Drivers;

/// <summary>enum iommu_cap: the capabilities this slice asks about.</summary>
public enum IommuCap
{
    /// <summary>IOMMU_CAP_DEFERRED_FLUSH: the driver supports flush queues (lazy invalidation).</summary>
    DeferredFlush,
}

/// <summary>IOMMU_HWPT_ALLOC_* flags of domain_alloc_paging_flags.</summary>
[Flags]
public enum HwptAllocFlags
{
    None = 0,
    Pasid = 1 << 0,
    DirtyTracking = 1 << 1,
}

/// <summary>
/// struct iommu_ops: what the core may ask of a driver. Errors are errnos; a callback that returns a pointer in
/// the kernel returns it through an out parameter. One ops object is shared by every instance it drives, so
/// <c>domain->owner == ops</c> compares drivers, not instances.
/// </summary>
public interface IommuOps
{
    /// <summary>The driver's name, as in topologies.</summary>
    string Name { get; }

    /// <summary>
    /// The driver's one ops object, which <c>domain->owner</c> records and the core's owner check compares: instances
    /// of one driver may register variants that differ only in a per-instance test knob (smmuv3 without an identity
    /// domain), yet in the kernel they share the driver's ops.
    /// </summary>
    IommuOps Owner => this;

    /// <summary>probe_device(): accept the device (fill dev->iommu->priv) or answer -ENODEV.</summary>
    Errno ProbeDevice(Device dev);

    /// <summary>release_device(): stop using any domain pointer for the device.</summary>
    void ReleaseDevice(Device dev);

    /// <summary>device_group(): the group the device belongs to, referenced for the caller; null when iommu_group_alloc() failed (-ENOMEM).</summary>
    IommuGroup? DeviceGroup(Device dev);

    /// <summary>def_domain_type(): IDENTITY, DMA, or 0 for no preference.</summary>
    DomainType DefDomainType(Device dev);

    /// <summary>domain_alloc_paging_flags(): a new paging domain for <paramref name="dev"/>'s instance.</summary>
    Errno DomainAllocPagingFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain);

    /// <summary>Static identity domain, or null.</summary>
    IommuDomain? IdentityDomain { get; }

    /// <summary>Static blocked domain, or null.</summary>
    IommuDomain? BlockedDomain { get; }

    /// <summary>Static default domain (legacy/mock), or null.</summary>
    IommuDomain? DefaultDomain { get; }

    /// <summary>Domain attached before release_device(), or null.</summary>
    IommuDomain? ReleaseDomain { get; }

    /// <summary>capable(dev, cap).</summary>
    bool Capable(Device dev, IommuCap cap);

    /// <summary>iommu_device::max_pasids of the driver's instances (0: no PASIDs).</summary>
    int MaxPasids => 0;

    /// <summary>ops->domain_alloc_sva is set.</summary>
    bool HasDomainAllocSva => false;

    /// <summary>domain_alloc_sva(): an SVA domain for <paramref name="mm"/> on <paramref name="dev"/>'s instance.</summary>
    Errno DomainAllocSva(Device dev, MmStruct mm, out IommuDomain? domain)
    {
        domain = null;
        return Errno.EOPNOTSUPP;
    }
}

/// <summary>struct iommu_domain_ops: the callbacks of one kind of domain.</summary>
public interface IommuDomainOps
{
    /// <summary>attach_dev(domain, dev, old): 0, or -EINVAL "incompatible", or another errno.</summary>
    Errno AttachDev(IommuDomain domain, Device dev, IommuDomain? old);

    /// <summary>free(): called by iommu_domain_free() for allocated domains.</summary>
    void Free(IommuDomain domain);

    /// <summary>domain->ops->set_dev_pasid is set.</summary>
    bool HasSetDevPasid => false;

    /// <summary>set_dev_pasid(domain, dev, pasid, old): 0, or the driver's refusal.</summary>
    Errno SetDevPasid(IommuDomain domain, Device dev, uint pasid, IommuDomain? old) => Errno.EOPNOTSUPP;

    /// <summary>
    /// An SVA domain's mmu_notifier arch_invalidate_secondary_tlbs for the whole mm: its mm's page table changed (here
    /// only at exit_mmap), so whatever the IOMMU cached of it goes (smmuv3: TLBI by the CD's ASID; vtd: PASID-based IOTLB).
    /// </summary>
    void InvalidateSecondaryTlbs(IommuDomain domain) { }
}
