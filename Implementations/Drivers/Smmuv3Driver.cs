using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// The arm-smmu-v3 driver: static blocked and identity domains, a release_domain, paging domains finalised on
/// one SMMU at allocation (attach from another instance is -EINVAL), no HTTU (no dirty tracking).
/// One driver per machine; <see cref="OpsFor"/> gives the ops an instance registers with.
/// </summary>
public sealed class Smmuv3Driver
{
    private readonly IommuCore _core;
    private readonly HardwarePlatform _platform;
    private readonly BugSwitches _bugs;
    private readonly Smmuv3Ops _ops;
    private readonly Smmuv3Ops _opsNoIdentity;

    public Smmuv3Driver(IommuCore core, HardwarePlatform platform, BugSwitches bugs)
    {
        _core = core;
        _platform = platform;
        _bugs = bugs;
        DomainOps = new Smmuv3DomainOps(this);
        BlockedDomain = new IommuDomain(core.AllocDomainId(), DomainType.Blocked, DomainOps, DriverNames.Smmuv3, isStatic: true);
        IdentityDomain = new IommuDomain(core.AllocDomainId(), DomainType.Identity, DomainOps, DriverNames.Smmuv3, isStatic: true);
        core.TrackDomain(BlockedDomain);
        core.TrackDomain(IdentityDomain);
        _ops = new Smmuv3Ops(this, IdentityDomain);
        _opsNoIdentity = new Smmuv3Ops(this, identity: null);
    }

    internal IommuDomainOps DomainOps { get; }

    internal IommuDomain BlockedDomain { get; }

    internal IommuDomain IdentityDomain { get; }

    /// <summary>
    /// The ops of one instance. The identity domain is a per-instance test knob, so an instance built without it
    /// registers the variant of the ops that has no identity_domain.
    /// </summary>
    public IommuOps OpsFor(IommuSpec spec) => spec.Options.IdentityDomain == false ? _opsNoIdentity : _ops;

    /// <summary>arm_smmu_attach_dev() and the blocked/identity attach: write the STE.</summary>
    internal Errno AttachDev(IommuDomain domain, Device dev)
    {
        var smmu = dev.Iommu!.IommuDev;
        if (domain is Smmuv3Domain smmuDomain)
        {
            // A paging domain is finalised on one SMMU; it cannot be shared with another instance.
            if (smmuDomain.Smmu != smmu) return Errno.EINVAL;
            // Seeded bug fresh_domain_einval: the finalise test inverted, a user domain never attached is refused.
            if (_bugs.IsOn(BugCatalogue.FreshDomainEinval) && smmuDomain.Type == DomainType.Unmanaged && !smmuDomain.EverAttached)
                return Errno.EINVAL;
            smmuDomain.EverAttached = true;
        }
        smmu.Hardware.Install(dev, domain);
        return Errno.OK;
    }

    /// <summary>arm_smmu_domain_free_paging(): the page table goes; the hardware checks nobody still uses it.</summary>
    internal void Free(IommuDomain domain) => _platform.DomainFreed(domain);

    /// <summary>arm_smmu_domain_alloc_paging_flags(): no HTTU, so no dirty tracking.</summary>
    internal Errno DomainAllocPagingFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain)
    {
        domain = null;
        if ((flags & ~HwptAllocFlags.Pasid) != 0) return Errno.EOPNOTSUPP;
        var smmu = dev.Iommu!.IommuDev;
        domain = new Smmuv3Domain(_core.AllocDomainId(), DomainOps, smmu) { Iommu = smmu };
        return Errno.OK;
    }

    internal Errno ProbeDevice(Device dev)
    {
        if (dev.Spec.Bus is not (BusNames.Pci or BusNames.Platform)) return Errno.ENODEV;
        dev.Iommu!.Priv = new Smmuv3Master(dev.Iommu.IommuDev, dev.Name);
        return Errno.OK;
    }

    internal void ReleaseDevice(Device dev)
    {
        var devIommu = dev.Iommu!;
        devIommu.IommuDev.Hardware.Remove(dev);
        devIommu.Priv = null;
    }

    internal IommuGroup DeviceGroup(Device dev) => _core.AliasGroupOrAllocLocked(dev);

    private sealed class Smmuv3Ops(Smmuv3Driver driver, IommuDomain? identity) : IommuOps
    {
        public string Name => DriverNames.Smmuv3;

        /// <summary>arm_smmu_ops: the same for every instance, whatever the identity knob.</summary>
        public IommuOps Owner => driver._ops;
        public Errno ProbeDevice(Device dev) => driver.ProbeDevice(dev);
        public void ReleaseDevice(Device dev) => driver.ReleaseDevice(dev);
        public IommuGroup DeviceGroup(Device dev) => driver.DeviceGroup(dev);

        /// <summary>The device's firmware preference (DeviceSpec.DefDomainType).</summary>
        public DomainType DefDomainType(Device dev) => dev.Spec.DefDomainType switch
        {
            "identity" => DomainType.Identity,
            "DMA" => DomainType.Dma,
            _ => DomainTypes.NoPreference,
        };

        public Errno DomainAllocPagingFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain) =>
            driver.DomainAllocPagingFlags(dev, flags, out domain);

        public IommuDomain? IdentityDomain => identity;
        public IommuDomain? BlockedDomain => driver.BlockedDomain;
        public IommuDomain? DefaultDomain => null;
        public IommuDomain? ReleaseDomain => driver.BlockedDomain;

        public bool Capable(Device dev, IommuCap cap) =>
            cap == IommuCap.DeferredFlush && (dev.Iommu?.IommuDev.Spec.Options.DeferredFlush ?? true);
    }

    private sealed class Smmuv3DomainOps(Smmuv3Driver driver) : IommuDomainOps
    {
        public Errno AttachDev(IommuDomain domain, Device dev, IommuDomain? old) => driver.AttachDev(domain, dev);
        public void Free(IommuDomain domain) => driver.Free(domain);
    }
}

/// <summary>struct arm_smmu_domain: a paging domain finalised on <see cref="Smmu"/>.</summary>
public sealed class Smmuv3Domain(int id, IommuDomainOps ops, IommuDevice smmu)
    : IommuDomain(id, DomainType.Unmanaged, ops, DriverNames.Smmuv3, isStatic: false)
{
    public IommuDevice Smmu => smmu;

    /// <summary>Some STE has translated through it.</summary>
    public bool EverAttached { get; set; }
}

/// <summary>struct arm_smmu_master: the driver's per-device data (dev_iommu_priv).</summary>
public sealed record Smmuv3Master(IommuDevice Smmu, string StreamName);
