using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Vtd;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// The intel-iommu driver (drivers/iommu/intel/iommu.c, legacy mode): static identity (pass-through context entry)
/// and blocking (cleared context entry) domains, the blocking domain as release_domain, paging domains on the
/// generic-page-table second stage (4K/2M/1G, 48-bit; overmap -EADDRINUSE, a partial unmap removes the whole leaf)
/// that any unit may attach, deferred flush, PASID capable. Caching mode makes every map invalidate too.
/// </summary>
public sealed class VtdDriver : IommuOps
{
    /// <summary>FLPT_DEFAULT_DID: the domain id a pass-through context entry carries.</summary>
    public const int PassThroughDid = 1;

    private readonly IommuCore _core;
    private readonly HardwarePlatform _platform;
    private readonly Dictionary<string, VtdUnit> _units = new(StringComparer.Ordinal);
    private readonly VtdDomainOps _domainOps;
    private readonly BugSwitches _bugs;
    private readonly PasidSlots _pasids;

    public VtdDriver(IommuCore core, HardwarePlatform platform, BugSwitches? bugs = null)
    {
        _core = core;
        _platform = platform;
        _bugs = bugs ?? BugSwitches.None;
        _pasids = new PasidSlots(core.Touched);
        _domainOps = new VtdDomainOps(this);
        BlockedDomain = new IommuDomain(core.AllocDomainId(), DomainType.Blocked, _domainOps, DriverNames.Vtd, isStatic: true);
        IdentityDomain = new IommuDomain(core.AllocDomainId(), DomainType.Identity, _domainOps, DriverNames.Vtd, isStatic: true);
        core.TrackDomain(BlockedDomain);
        core.TrackDomain(IdentityDomain);
    }

    /// <summary>
    /// Brings up one remapping unit; returns the ops it registers: the driver itself, or, for a unit whose
    /// <c>identityDomain</c> knob is false (a unit without pass-through, ecap.PT = 0, where intel-iommu offers no
    /// identity domain), a variant without one that shares the driver's owner.
    /// </summary>
    public IommuOps AddInstance(IommuSpec spec, VtdHardware hardware)
    {
        _units.Add(spec.Name, new VtdUnit(hardware, _platform.Allocator));
        return spec.Options.IdentityDomain == false ? _noIdentity ??= new NoIdentityOps(this) : this;
    }

    private NoIdentityOps? _noIdentity;

    public string Name => DriverNames.Vtd;

    public Errno ProbeDevice(Device dev) => dev.Spec.Bus == BusNames.Pci ? Errno.OK : Errno.ENODEV;

    // intel_iommu_release_device: the core attached the blocking domain; the driver clears the entry itself.
    public void ReleaseDevice(Device dev)
    {
        if (ScalableUnit(dev) is { } sm)
        {
            sm.Unit.TearDownPasidEntry(sm.Bdf, 0, faultIgnore: false);
            sm.Unit.TeardownSmContext(sm.Bdf);
            _core.Touched.Device(dev.Name);
            _pasids.Release(dev);
            return;
        }
        WriteContext(dev, (0, 0));
        _pasids.Release(dev);
    }

    /// <summary>ecap.PSS: 20-bit PASIDs in scalable mode.</summary>
    public int MaxPasids => 1 << 20;

    public bool HasDomainAllocSva => true;

    /// <summary>intel_svm_domain_alloc(): an SVA domain, usable on any unit (first-stage tables are the mm's).</summary>
    public Errno DomainAllocSva(Device dev, MmStruct mm, out IommuDomain? domain)
    {
        domain = new SvaDomain(_core.AllocDomainId(), _domainOps, DriverNames.Vtd, mm) { Iommu = dev.Iommu!.IommuDev };
        return Errno.OK;
    }

    /// <summary>intel_iommu_set_dev_pasid / intel_svm_set_dev_pasid / blocking_domain_set_dev_pasid: the PASID-table entry is recorded.</summary>
    internal Errno SetDevPasid(IommuDomain domain, Device dev, uint pasid)
    {
        _pasids.Set(dev, pasid, domain);
        return Errno.OK;
    }

    /// <summary>What the device's PASID-table entry at <paramref name="pasid"/> points at.</summary>
    internal IommuDomain? PasidDomain(string dev, uint pasid) => _pasids.Get(dev, pasid);

    public IommuGroup? DeviceGroup(Device dev) => _core.AliasGroupOrAllocLocked(dev);

    public DomainType DefDomainType(Device dev) => dev.Spec.DefDomainType switch
    {
        "identity" => DomainType.Identity,
        "DMA" => DomainType.Dma,
        _ => DomainTypes.NoPreference,
    };

    // intel_iommu_domain_alloc_paging_flags: no dirty tracking in this emulation (no SSADS)
    public Errno DomainAllocPagingFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain)
    {
        domain = null;
        if ((flags & ~HwptAllocFlags.Pasid) != 0) return Errno.EOPNOTSUPP;
        if (_core.AllocFails(Warn.FaultSites.Domain, dev)) return Errno.ENOMEM;   // paging_domain_alloc(): kzalloc
        // generic_pt's VT-d second stage: hw_max_oasz_lg2 = 52 (the SS-PTE address field [51:12]); PageTableCaps.Vtd
        var r = VtdssPgtable.Create(_platform.Allocator, out var pgtable, vaBits: 48, oaBits: 52, owner: dev.Name);
        if (r != Errno.OK) return r;
        pgtable!.Bugs = _bugs;
        domain = new VtdDomain(_core.AllocDomainId(), _domainOps, this, pgtable!) { Iommu = dev.Iommu!.IommuDev };
        return Errno.OK;
    }

    public IommuDomain? IdentityDomain { get; }
    public IommuDomain? BlockedDomain { get; }
    public IommuDomain? DefaultDomain => null;
    public IommuDomain? ReleaseDomain => BlockedDomain;

    public bool Capable(Device dev, IommuCap cap) =>
        cap == IommuCap.DeferredFlush && (dev.Iommu?.IommuDev.Spec.Options.DeferredFlush ?? true);

    internal VtdUnit UnitOf(IommuDevice instance) => _units[instance.Name];

    internal Errno AttachDev(IommuDomain domain, Device dev)
    {
        if (!_units.ContainsKey(dev.Iommu!.IommuDev.Name)) return Errno.OK;   // trusting the core: a foreign device has no entry here
        if (ScalableUnit(dev) is { } sm) return AttachDevScalable(domain, dev, sm.Unit, sm.Bdf);
        if (domain is VtdDomain paging)
            WriteContext(dev, VtdEntry.Translate(paging.Pgtable.RootPhys, ((VtdssPgtable)paging.Pgtable).AddressWidthField, paging.Id));
        else WriteContext(dev, domain.Type == DomainType.Identity ? VtdEntry.PassThrough(PassThroughDid) : (0, 0));
        return Errno.OK;
    }

    private (VtdUnit Unit, int Bdf)? ScalableUnit(Device dev) =>
        dev.Iommu is { } di && _units.TryGetValue(di.IommuDev.Name, out var unit) && unit.Scalable && unit.Hardware.RequesterIdOf(dev.Name) is { } bdf
            ? (unit, bdf) : null;

    /// <summary>
    /// Scalable mode's attach of the RID (device_block_translation, then dmar_domain_attach_device /
    /// identity_domain_attach_dev): the RID_PASID entry is torn down, then set to the domain's second level (paging)
    /// or pass-through (identity); blocking leaves it cleared. The context entry is written once, at the first attach.
    /// </summary>
    private Errno AttachDevScalable(IommuDomain domain, Device dev, VtdUnit unit, int bdf)
    {
        var r = unit.EnsureSmContext(bdf, dev.Spec.MaxPasids);
        if (r != Errno.OK) return r;
        unit.TearDownPasidEntry(bdf, 0, faultIgnore: false);
        _core.Touched.Device(dev.Name);
        if (domain is VtdDomain paging)
            return unit.SetupPasidEntry(bdf, 0, VtdPasidEntry.SecondLevel(paging.Pgtable.RootPhys, ((VtdssPgtable)paging.Pgtable).AddressWidthField, paging.Id));
        return domain.Type == DomainType.Identity ? unit.SetupPasidEntry(bdf, 0, VtdPasidEntry.PassThrough(2, PassThroughDid)) : Errno.OK;
    }

    private void WriteContext(Device dev, (ulong Lo, ulong Hi) entry)
    {
        if (!_units.TryGetValue(dev.Iommu!.IommuDev.Name, out var unit) || unit.Hardware.RequesterIdOf(dev.Name) is not { } bdf) return;
        unit.WriteContext(bdf, entry);
        _core.Touched.Device(dev.Name);
    }

    // intel_iommu_domain_free: flush the DID on every unit, then the page table goes
    internal void Free(IommuDomain domain)
    {
        _platform.DomainFreed(domain);
        if (domain is not VtdDomain paging) return;
        foreach (var unit in _units.Values) unit.SubmitSync([VtdQi.IotlbDomain(paging.Id)]);
        paging.Pgtable.Free();
    }

    /// <summary>Each unit's flush of a domain's range (cache_tag_flush_range: every unit the domain may be cached on).</summary>
    internal void FlushRange(VtdDomain domain, ulong start, ulong last)
    {
        foreach (var unit in _units.Values) unit.FlushIotlbRange(domain.Id, start, last);
    }

    /// <summary>Each unit's domain-selective IOTLB flush of a domain.</summary>
    internal void FlushAll(VtdDomain domain)
    {
        foreach (var unit in _units.Values) unit.SubmitSync([VtdQi.IotlbDomain(domain.Id)]);
    }

    internal bool AnyCachingMode => _units.Values.Any(u => u.CachingMode);

    private sealed class VtdDomainOps(VtdDriver driver) : IommuDomainOps
    {
        public Errno AttachDev(IommuDomain domain, Device dev, IommuDomain? old) => driver.AttachDev(domain, dev);
        public void Free(IommuDomain domain) => driver.Free(domain);
        public bool HasSetDevPasid => true;
        public Errno SetDevPasid(IommuDomain domain, Device dev, uint pasid, IommuDomain? old) => driver.SetDevPasid(domain, dev, pasid);
    }
}

/// <summary>struct dmar_domain: a second-stage paging domain; its DID is its domain id (never reused in a machine).</summary>
public sealed class VtdDomain(int id, IommuDomainOps ops, VtdDriver driver, VtdssPgtable pgtable)
    : PagingDomain(id, ops, DriverNames.Vtd, pgtable)
{
    // intel_iommu_tlb_sync: page-selective invalidation of the gather and a wait, then the freed tables
    protected internal override void IotlbSync(IotlbGather gather)
    {
        if (!gather.IsEmpty) driver.FlushRange(this, gather.Start, gather.End);
        gather.FreePages();
    }

    // intel_flush_iotlb_all → cache_tag_flush_all: a domain-selective invalidation on every unit
    protected internal override void FlushIotlbAll() => driver.FlushAll(this);

    // intel_iommu_iotlb_sync_map: with caching mode, not-present entries may be cached, so a map invalidates too
    protected override Errno IotlbSyncMap(ulong iova, ulong size)
    {
        if (driver.AnyCachingMode) driver.FlushRange(this, iova, iova + size - 1);
        return Errno.OK;
    }
}
