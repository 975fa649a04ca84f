using IommuConformance.Contract;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// The iommufd selftest mock driver (selftest.c): a static BLOCKED domain that is both default_domain and
/// blocked_domain, no identity, no release_domain, dirty-tracking paging domains that a no-dirty device
/// refuses. Accepts only its private bus, which <c>platform</c> stands for.
/// </summary>
public sealed class MockDriver : IommuOps, IommuDomainOps
{
    private readonly IommuCore _core;
    private readonly HardwarePlatform _platform;
    private readonly IommuDomain _blocked;

    public MockDriver(IommuCore core, HardwarePlatform platform)
    {
        _core = core;
        _platform = platform;
        _blocked = new IommuDomain(core.AllocDomainId(), DomainType.Blocked, this, DriverNames.Mock, isStatic: true);
        core.TrackDomain(_blocked);
    }

    public string Name => DriverNames.Mock;

    /// <summary>mock_probe_device(): only devices of the mock bus.</summary>
    public Errno ProbeDevice(Device dev) => dev.Spec.Bus == BusNames.Platform ? Errno.OK : Errno.ENODEV;

    /// <summary>The mock keeps nothing per device but its attach record.</summary>
    public void ReleaseDevice(Device dev) => dev.Iommu?.IommuDev.Hardware.Remove(dev);

    /// <summary>Unlike the selftest mock's one group per device, devices sharing a key share a group (docs/operations.md).</summary>
    public IommuGroup DeviceGroup(Device dev) => _core.AliasGroupOrAllocLocked(dev);

    /// <summary>Never consulted: the static default domain decides.</summary>
    public DomainType DefDomainType(Device dev) => DomainTypes.NoPreference;

    /// <summary>mock_domain_alloc_paging_flags(): dirty tracking needs a device that can track.</summary>
    public Errno DomainAllocPagingFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain)
    {
        domain = null;
        var dirty = (flags & HwptAllocFlags.DirtyTracking) != 0;
        if (dirty && dev.Spec.NoDirty) return Errno.EOPNOTSUPP;
        domain = new MockDomain(_core.AllocDomainId(), this, dirty) { Iommu = dev.Iommu!.IommuDev };
        return Errno.OK;
    }

    public IommuDomain? IdentityDomain => null;
    public IommuDomain? BlockedDomain => _blocked;
    public IommuDomain? DefaultDomain => _blocked;
    public IommuDomain? ReleaseDomain => null;

    public bool Capable(Device dev, IommuCap cap) => false;

    /// <summary>
    /// mock_domain_nop_attach(): a dirty-tracking domain on a no-dirty device is the canonical -EINVAL.
    /// It trusts that dev is a mock device: handed a foreign device it records into that device's hardware.
    /// </summary>
    public Errno AttachDev(IommuDomain domain, Device dev, IommuDomain? old)
    {
        if (domain is MockDomain { DirtyTracking: true } && dev.Spec.NoDirty) return Errno.EINVAL;
        dev.Iommu!.IommuDev.Hardware.Install(dev, domain);
        return Errno.OK;
    }

    /// <summary>mock_domain_free(): the hardware checks nobody still uses it.</summary>
    public void Free(IommuDomain domain) => _platform.DomainFreed(domain);
}

/// <summary>struct mock_iommu_domain.</summary>
public sealed class MockDomain(int id, IommuDomainOps ops, bool dirtyTracking)
    : IommuDomain(id, DomainType.Unmanaged, ops, DriverNames.Mock, isStatic: false)
{
    public bool DirtyTracking => dirtyTracking;
}
