using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Vtd;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// The intel-iommu driver (drivers/iommu/intel/iommu.c; legacy mode, and scalable mode on a unit with SMTS): static identity (pass-through context entry)
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
        _units.Add(spec.Name, new VtdUnit(hardware, _platform.Allocator) { TeardownSkipsPcInv = _bugs.IsOn(BugCatalogue.PasidTeardownSkipsPcInv) });
        return spec.Options.IdentityDomain == false ? _noIdentity ??= new NoIdentityOps(this) : this;
    }

    private NoIdentityOps? _noIdentity;

    public string Name => DriverNames.Vtd;

    // intel_iommu_probe_device: a PCI device behind the unit (device_lookup_iommu, else -ENODEV), then its
    // device_domain_info (kzalloc, -ENOMEM), and on a scalable unit its PASID directory and context entry. The info's
    // fields live in the unit's tables and _devPasids here.
    public Errno ProbeDevice(Device dev)
    {
        if (dev.Spec.Bus != BusNames.Pci) return Errno.ENODEV;
        if (_core.AllocFails(Warn.FaultSites.DeviceDomainInfo, dev)) return Errno.ENOMEM;
        // sm_supported: intel_pasid_alloc_table (the PASID directory) and intel_pasid_setup_sm_context, -ENOMEM
        if (ScalableUnit(dev) is not { } sm) return Errno.OK;
        if (_core.AllocFails(Warn.FaultSites.IntelPasidDir, dev)) return Errno.ENOMEM;
        var r = sm.Unit.EnsureSmContext(sm.Bdf, dev.Spec.MaxPasids);
        if (r == Errno.OK) _core.Touched.Device(dev.Name);
        return r;
    }

    // intel_iommu_release_device: the core attached the blocking domain; the driver clears the entry itself.
    public void ReleaseDevice(Device dev)
    {
        if (ScalableUnit(dev) is { } sm)
        {
            sm.Unit.TearDownPasidEntry(sm.Bdf, 0, faultIgnore: false);
            sm.Unit.TeardownSmContext(sm.Bdf);
            _core.Touched.Device(dev.Name);
            foreach (var key in _devPasids.Keys.Where(k => k.Dev == dev.Name).ToList()) _devPasids.Remove(key);
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
        domain = null;
        if (_core.AllocFails(Warn.FaultSites.Domain, dev)) return Errno.ENOMEM;   // kzalloc of the dmar_domain
        domain = new SvaDomain(_core.AllocDomainId(), _domainOps, DriverNames.Vtd, mm) { Iommu = dev.Iommu!.IommuDev };
        return Errno.OK;
    }

    /// <summary>
    /// intel_iommu_set_dev_pasid / intel_svm_set_dev_pasid / blocking_domain_set_dev_pasid. On a unit in scalable mode
    /// the device's PASID-table entry is written (<see cref="SetDevPasidScalable"/>). A legacy-mode unit has no PASID
    /// table (the kernel gives its devices max_pasids 0); this emulation still offers PASIDs there and records the entry
    /// in driver memory only, untranslated (a known deviation, docs/pasid-sva.md).
    /// </summary>
    internal Errno SetDevPasid(IommuDomain domain, Device dev, uint pasid, IommuDomain? old)
    {
        if (ScalableUnit(dev) is { } sm) return SetDevPasidScalable(domain, dev, pasid, old, sm.Unit, sm.Bdf);
        _pasids.Set(dev, pasid, domain);
        return Errno.OK;
    }

    // The (device, PASID) pairs each domain is set on: dmar_domain->dev_pasids (domain_add_dev_pasid / domain_remove_dev_pasid).
    private readonly Dictionary<(string Dev, uint Pasid), (Device Dev, IommuDomain Domain)> _devPasids = [];

    /// <summary>
    /// Scalable mode: the blocked domain tears the entry down (intel_pasid_tear_down_entry); a paging domain is set up at
    /// second level with its DID (domain_setup_second_level); an SVA domain at first level with FLPTPTR = the mm's
    /// x86-64 pgd, FLPM 0 (4-level) and DID FLPT_DEFAULT_DID (intel_svm_set_dev_pasid → __domain_setup_first_level);
    /// identity as pass-through. Without an old domain the setup refuses a present entry (-EBUSY); with one, the
    /// replace writes over the present entry and flushes with the old DID, and refuses an absent one (-EINVAL).
    /// </summary>
    private Errno SetDevPasidScalable(IommuDomain domain, Device dev, uint pasid, IommuDomain? old, VtdUnit unit, int bdf)
    {
        var r = unit.EnsureSmContext(bdf, dev.Spec.MaxPasids);
        if (r != Errno.OK) return r;
        _core.Touched.Device(dev.Name);
        if (domain.Type == DomainType.Blocked)
        {
            unit.TearDownPasidEntry(bdf, pasid, faultIgnore: false);
            _devPasids.Remove((dev.Name, pasid));
            return Errno.OK;
        }
        VtdPasidEntry entry;
        switch (domain)
        {
            case VtdDomain paging:
                entry = VtdPasidEntry.SecondLevel(paging.Pgtable.RootPhys, ((VtdssPgtable)paging.Pgtable).AddressWidthField, paging.Id);
                break;
            case SvaDomain { Mm.PageTable.X86Pgd: { } pgd }:
                entry = VtdPasidEntry.FirstLevel(pgd, flpm: 0, aw: SvaAgaw, did: PassThroughDid);
                break;
            case SvaDomain:
                return Errno.EINVAL;   // an mm without an x86-64 table cannot be walked at first level (not reached: the machine has a vtd unit)
            default:
                if (domain.Type != DomainType.Identity) return Errno.EINVAL;
                entry = VtdPasidEntry.PassThrough(SvaAgaw, PassThroughDid);
                break;
        }
        if (PasidTableFails(unit, bdf, pasid, dev)) return Errno.ENODEV;
        r = old is null ? unit.SetupPasidEntry(bdf, pasid, entry) : unit.ReplacePasidEntry(bdf, pasid, entry);
        if (r != Errno.OK) return r;
        _devPasids[(dev.Name, pasid)] = (dev, domain);
        return Errno.OK;
    }

    /// <summary>iommu->agaw of a 48-bit unit (4-level): the AW a first-level or pass-through PASID entry carries.</summary>
    private const int SvaAgaw = 2;

    /// <summary>
    /// intel_mm_release (the mm's exit, before its pages go): every PASID entry of the SVA domain is torn down with FPD
    /// (intel_pasid_tear_down_entry(..., fault_ignore = true)), so no DMA walks the dying table; the entries stay
    /// recorded until the unbind's blocked domain.
    /// </summary>
    internal void InvalidateSecondaryTlbs(IommuDomain domain)
    {
        if (domain is not SvaDomain) return;
        foreach (var ((_, pasid), (dev, d)) in _devPasids.ToList())
            if (d == domain && ScalableUnit(dev) is { } sm)
            {
                sm.Unit.TearDownPasidEntry(sm.Bdf, pasid, faultIgnore: true);
                _core.Touched.Device(dev.Name);
            }
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
            return WriteContext(dev, VtdEntry.Translate(paging.Pgtable.RootPhys, ((VtdssPgtable)paging.Pgtable).AddressWidthField, paging.Id));
        return WriteContext(dev, domain.Type == DomainType.Identity ? VtdEntry.PassThrough(PassThroughDid) : (0, 0));
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
        // the RID_PASID entry's table (PASIDs 0-63) at the device's first attach that sets it: the device is left behind
        // its present context entry with no RID_PASID entry, as blocked as before
        if (domain.Type != DomainType.Blocked && PasidTableFails(unit, bdf, 0, dev)) return Errno.ENODEV;
        if (domain is VtdDomain paging)
            return unit.SetupPasidEntry(bdf, 0, VtdPasidEntry.SecondLevel(paging.Pgtable.RootPhys, ((VtdssPgtable)paging.Pgtable).AddressWidthField, paging.Id));
        return domain.Type == DomainType.Identity ? unit.SetupPasidEntry(bdf, 0, VtdPasidEntry.PassThrough(2, PassThroughDid)) : Errno.OK;
    }

    // intel_pasid_get_entry: the table of the PASID's directory slot at its first use asks the fault gate (the setup: -ENODEV)
    private bool PasidTableFails(VtdUnit unit, int bdf, uint pasid, Device dev) =>
        unit.PasidTableMissing(bdf, pasid) && _core.AllocFails(Warn.FaultSites.IntelPasidTable, dev);

    // domain_context_mapping_one / context_setup_pass_through / domain_context_clear_one: iommu_context_addr makes bus 0's
    // context table at the unit's first present entry (-ENOMEM, nothing written); a clear without one has nothing to clear
    private Errno WriteContext(Device dev, (ulong Lo, ulong Hi) entry)
    {
        if (!_units.TryGetValue(dev.Iommu!.IommuDev.Name, out var unit) || unit.Hardware.RequesterIdOf(dev.Name) is not { } bdf) return Errno.OK;
        if (!unit.HasContextTable)
        {
            if ((entry.Lo & VtdEntry.P) == 0) return Errno.OK;
            if (_core.AllocFails(Warn.FaultSites.IntelContextTable, dev)) return Errno.ENOMEM;
            var r = unit.AllocContextTable();
            if (r != Errno.OK) return r;
            // the present root entry turns every device of the unit from a root-entry fault to a context-entry one
            foreach (var behind in _core.DevicesBehind(dev.Iommu.IommuDev)) _core.Touched.Device(behind.Name);
        }
        unit.WriteContext(bdf, entry);
        _core.Touched.Device(dev.Name);
        return Errno.OK;
    }

    /// <summary>The legacy units' context tables made since boot: kept until the unit goes (free_context_table at shutdown).</summary>
    internal int KeptFrames => _units.Values.Count(u => !u.Scalable && u.HasContextTable);

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
        public Errno SetDevPasid(IommuDomain domain, Device dev, uint pasid, IommuDomain? old) => driver.SetDevPasid(domain, dev, pasid, old);
        public void InvalidateSecondaryTlbs(IommuDomain domain) => driver.InvalidateSecondaryTlbs(domain);
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
