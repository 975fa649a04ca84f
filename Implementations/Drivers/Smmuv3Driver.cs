using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Smmuv3;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// The arm-smmu-v3 driver: static blocked and identity domains, a release_domain, paging domains (LPAE stage 1,
/// 4K granule, 48-bit) finalised on one SMMU at allocation (attach from another instance is -EINVAL), no HTTU (no
/// dirty tracking). It programs the emulated SMMU only through memory (STEs, CDs, commands) and registers.
/// One driver per machine; <see cref="AddInstance"/> gives the ops an instance registers with.
/// </summary>
public sealed class Smmuv3Driver
{
    private readonly IommuCore _core;
    private readonly HardwarePlatform _platform;
    private readonly BugSwitches _bugs;
    private readonly Smmuv3Ops _ops;
    private readonly Smmuv3Ops _opsNoIdentity;
    private readonly Dictionary<string, Smmuv3Device> _smmus = new(StringComparer.Ordinal);

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
    /// arm_smmu_device_probe + reset for one instance; returns the ops it registers. The identity domain is a
    /// per-instance test knob, so an instance built without it registers the variant of the ops that has none.
    /// </summary>
    public IommuOps AddInstance(IommuSpec spec, Smmuv3Hardware hardware)
    {
        _smmus.Add(spec.Name, new Smmuv3Device(hardware, _platform.Allocator, _bugs));
        return spec.Options.IdentityDomain == false ? _opsNoIdentity : _ops;
    }

    internal Smmuv3Device SmmuOf(IommuDevice instance) => _smmus[instance.Name];

    /// <summary>arm_smmu_attach_dev() and the blocked/identity attach: write the CD (paging), then the STE.</summary>
    internal Errno AttachDev(IommuDomain domain, Device dev)
    {
        if (domain is Smmuv3Domain { Smmu: var owner } && owner != dev.Iommu!.IommuDev) return Errno.EINVAL;
        // Trusting that dev is an SMMU master (the core checked the owner): a foreign device has no STE here to write.
        if (dev.Iommu!.Priv is not Smmuv3Master master) return Errno.OK;
        if (domain is Smmuv3Domain smmuDomain)
        {
            // Seeded bug fresh_domain_einval: the finalise test inverted, a user domain never attached is refused.
            if (_bugs.IsOn(BugCatalogue.FreshDomainEinval) && smmuDomain.Type == DomainType.Unmanaged && !smmuDomain.EverAttached)
                return Errno.EINVAL;
            // arm_smmu_alloc_cd_ptr(master, IOMMU_NO_PASID): the CD table at the first stage-1 attach, -ENOMEM with nothing installed
            var r = EnsureCdTable(dev, master);
            if (r != Errno.OK) return r;
            smmuDomain.EverAttached = true;
            master.Smmu.WriteCd(master.Sid, master.CdTable!.CdPtr(0, alloc: true)!.Value, 0, smmuDomain.Asid, smmuDomain.Pgtable.RootPhys, smmuDomain.Pgtable.Ias);
            master.Rid = Smmuv3RidConfig.Paging;
        }
        else master.Rid = domain.Type == DomainType.Identity ? Smmuv3RidConfig.Bypass : Smmuv3RidConfig.Abort;
        SyncSte(dev, master);
        return Errno.OK;
    }

    /// <summary>
    /// The STE the master needs now (arm_smmu_make_cdtable_ste / _bypass_ste / _abort_ste): the CD table when the RID is
    /// on a paging domain (S1DSS = SSID0: untagged DMA uses CD 0) or any substream is in use (S1DSS bypass or terminate,
    /// as the RID's identity or blocked domain says); else a plain bypass or abort STE; an invalid one before any attach.
    /// </summary>
    private void SyncSte(Device dev, Smmuv3Master master)
    {
        var cdt = master.CdTable;
        var cdTable = cdt is null ? 0 : Smmuv3Ste.S1(cdt.Base, cdt.Fmt, cdt.CdMax);
        var (ste, ste1) = master.Rid switch
        {
            Smmuv3RidConfig.Paging => (cdTable, Smmuv3Ste.S1DssSsid0),
            _ when cdt is { UsedSsids.Count: > 0 } =>
                (cdTable, master.Rid == Smmuv3RidConfig.Bypass ? Smmuv3Ste.S1DssBypass : Smmuv3Ste.S1DssTerminate),
            Smmuv3RidConfig.Bypass => (Smmuv3Ste.Bypass(), 0UL),
            Smmuv3RidConfig.Abort => (Smmuv3Ste.Abort(), 0UL),
            _ => (0UL, 0UL),
        };
        WriteSte(dev, master, ste, ste1);
    }

    // The STE changes what the snapshot shows for the device the driver meant (an aliased stream it does not know of).
    private void WriteSte(Device dev, Smmuv3Master master, ulong ste, ulong ste1 = 0)
    {
        master.Smmu.WriteSte(master.Sid, ste, ste1);
        _core.Touched.Device(dev.Name);
    }

    /// <summary>
    /// arm_smmu_domain_free_paging(): the ASID's TLB entries are invalidated (TLBI_NH_ASID + SYNC) before its table
    /// pages are freed; the hardware checks nobody still uses the domain.
    /// </summary>
    internal void Free(IommuDomain domain)
    {
        _platform.DomainFreed(domain);
        // arm_smmu_sva_domain_free: the ASID is emptied from the SMMU's caches before the domain (and, after it, the
        // mm's tables at the last mmdrop) goes; a walk after exit_mmap may have cached the emptied tables again
        if (domain is SvaDomain) InvalidateSecondaryTlbs(domain);
        if (domain is not Smmuv3Domain smmuDomain) return;
        SmmuOf(smmuDomain.Smmu).TlbInvAsid(smmuDomain.Asid);
        smmuDomain.Pgtable.Free();
    }

    /// <summary>arm_smmu_domain_alloc_paging_flags(): no HTTU, so no dirty tracking; the io-pgtable is allocated now.</summary>
    internal Errno DomainAllocPagingFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain)
    {
        domain = null;
        if ((flags & ~HwptAllocFlags.Pasid) != 0) return Errno.EOPNOTSUPP;
        if (_core.AllocFails(Warn.FaultSites.Domain, dev)) return Errno.ENOMEM;   // arm_smmu_domain_alloc(): kzalloc
        var instance = dev.Iommu!.IommuDev;
        var r = ArmLpaePgtable.Create(new ArmLpaeConfig(ArmLpaeStage.Stage1, 4096, 48, 48), _platform.Allocator, out var pgtable, owner: dev.Name);
        if (r != Errno.OK) return r;
        pgtable!.Bugs = _bugs;
        domain = new Smmuv3Domain(_core.AllocDomainId(), DomainOps, instance, SmmuOf(instance), pgtable!) { Iommu = instance };
        return Errno.OK;
    }

    // arm_smmu_probe_device: the master (kzalloc); its CD table comes at the first stage-1 attach or PASID set
    internal Errno ProbeDevice(Device dev)
    {
        if (dev.Spec.Bus is not (BusNames.Pci or BusNames.Platform)) return Errno.ENODEV;
        if (_core.AllocFails(Warn.FaultSites.ArmSmmuMaster, dev)) return Errno.ENOMEM;
        var instance = dev.Iommu!.IommuDev;
        dev.Iommu.Priv = new Smmuv3Master(SmmuOf(instance), instance.Hardware.RequesterIdOf(dev.Name)!.Value);
        return Errno.OK;
    }

    // arm_smmu_alloc_cd_ptr → arm_smmu_alloc_cd_tables when the master has none: sized by its ssid_bits (log2 of
    // max_pasids), CD 0's leaf included; the kzalloc asks the fault gate (arm_smmu_cd_table), -ENOMEM with nothing made
    private Errno EnsureCdTable(Device dev, Smmuv3Master master)
    {
        if (master.CdTable is not null) return Errno.OK;
        if (_core.AllocFails(Warn.FaultSites.ArmSmmuCdTable, dev)) return Errno.ENOMEM;
        var r = Smmuv3CdTable.Alloc(_platform.Allocator, _platform.Memory, dev.Iommu!.MaxPasids, out var table);
        if (r == Errno.OK) master.CdTable = table;
        return r;
    }

    // arm_smmu_release_device: "Put the STE back to what arm_smmu_init_strtab() sets", then free the CD table. This
    // emulation's reset leaves STEs invalid (the kernel's writes abort or bypass ones) so that a stream never
    // attached reads as no entry; release writes that back, and an invalid STE aborts DMA too (C_BAD_STE).
    internal void ReleaseDevice(Device dev)
    {
        var devIommu = dev.Iommu!;
        var master = (Smmuv3Master)devIommu.Priv!;
        WriteSte(dev, master, 0);
        master.CdTable?.Free();   // its substreams' CDs with it (CFGI_STE dropped every cached CD of the stream)
        devIommu.Priv = null;
    }

    internal IommuGroup? DeviceGroup(Device dev) => _core.AliasGroupOrAllocLocked(dev);

    /// <summary>
    /// arm_smmu_s1_set_dev_pasid / arm_smmu_sva_set_dev_pasid / the blocking domain's: a paging or SVA domain of another
    /// SMMU → -EINVAL; else the substream's CD (SSID = PASID) is written and synced: a paging domain's ASID and table
    /// (arm_smmu_make_s1_cd), an SVA domain's ASID and the mm's pgd (arm_smmu_make_sva_cd), the blocked domain clears it
    /// (arm_smmu_clear_cd); then the STE the master needs (<see cref="SyncSte"/>).
    /// </summary>
    internal Errno SetDevPasid(IommuDomain domain, Device dev, uint pasid)
    {
        var instance = dev.Iommu!.IommuDev;
        if (domain is Smmuv3Domain { Smmu: var owner } && owner != instance) return Errno.EINVAL;
        if (domain is SvaDomain sva && sva.Iommu != instance) return Errno.EINVAL;
        if (dev.Iommu.Priv is not Smmuv3Master master) return Errno.OK;
        // arm_smmu_set_pasid → arm_smmu_alloc_cd_ptr: the CD table if no RID attach made it, then the PASID's leaf
        // (two levels); both kept, so a leaf that fails leaves the table made
        if (domain is Smmuv3Domain or SvaDomain { Mm.PageTable: not null })
        {
            var r = EnsureCdTable(dev, master);
            if (r != Errno.OK) return r;
            if (master.CdTable!.LeafMissing(pasid) && _core.AllocFails(Warn.FaultSites.ArmSmmuCdLeaf, dev)) return Errno.ENOMEM;
        }
        switch (domain)
        {
            case Smmuv3Domain paging when master.CdTable is { } cdt:
                if (cdt.CdPtr(pasid, alloc: true) is not { } cd) return Errno.ENOMEM;
                master.Smmu.WriteCd(master.Sid, cd, pasid, paging.Asid, paging.Pgtable.RootPhys, paging.Pgtable.Ias);
                cdt.UsedSsids.Add(pasid);
                break;
            case SvaDomain { Mm.PageTable: { } cpu } svaDomain when master.CdTable is { } cdt:
                if (cdt.CdPtr(pasid, alloc: true) is not { } svaCd) return Errno.ENOMEM;
                master.Smmu.WriteCd(master.Sid, svaCd, pasid, SvaAsid(svaDomain), cpu.Pgd, 48);
                cdt.UsedSsids.Add(pasid);
                break;
            default:
                if (master.CdTable is { } used && used.UsedSsids.Remove(pasid) && used.CdPtr(pasid, alloc: false) is { } old)
                    master.Smmu.ClearCd(master.Sid, old, pasid);
                break;
        }
        SyncSte(dev, master);
        _core.Touched.Device(dev.Name);
        return Errno.OK;
    }

    /// <summary>The ASID of an SVA domain's CDs: its domain id (the kernel shares the mm's arm64 ASID; ids are never reused here).</summary>
    private static int SvaAsid(IommuDomain sva) => sva.Id;

    /// <summary>arm_smmu_mm_arch_invalidate_secondary_tlbs for the whole mm: TLBI by the SVA domain's ASID on its SMMU, then SYNC.</summary>
    internal void InvalidateSecondaryTlbs(IommuDomain domain)
    {
        if (domain is SvaDomain { Iommu: { } smmu } && _smmus.TryGetValue(smmu.Name, out var device)) device.TlbInvAsid(SvaAsid(domain));
    }

    /// <summary>arm_smmu_sva_domain_alloc(): an SVA domain on the device's SMMU (its ASID shared with the mm's).</summary>
    internal Errno DomainAllocSva(Device dev, MmStruct mm, out IommuDomain? domain)
    {
        domain = null;
        if (_core.AllocFails(Warn.FaultSites.Domain, dev)) return Errno.ENOMEM;   // kzalloc of the arm_smmu_domain
        domain = new SvaDomain(_core.AllocDomainId(), DomainOps, DriverNames.Smmuv3, mm) { Iommu = dev.Iommu!.IommuDev };
        return Errno.OK;
    }

    private sealed class Smmuv3Ops(Smmuv3Driver driver, IommuDomain? identity) : IommuOps
    {
        public string Name => DriverNames.Smmuv3;

        /// <summary>arm_smmu_ops: the same for every instance, whatever the identity knob.</summary>
        public IommuOps Owner => driver._ops;
        public Errno ProbeDevice(Device dev) => driver.ProbeDevice(dev);
        public void ReleaseDevice(Device dev) => driver.ReleaseDevice(dev);
        public IommuGroup? DeviceGroup(Device dev) => driver.DeviceGroup(dev);

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

        /// <summary>SMMU_IDR1.SSIDSIZE = 20.</summary>
        public int MaxPasids => 1 << 20;
        public bool HasDomainAllocSva => true;
        public Errno DomainAllocSva(Device dev, MmStruct mm, out IommuDomain? domain) => driver.DomainAllocSva(dev, mm, out domain);
    }

    private sealed class Smmuv3DomainOps(Smmuv3Driver driver) : IommuDomainOps
    {
        public Errno AttachDev(IommuDomain domain, Device dev, IommuDomain? old) => driver.AttachDev(domain, dev);
        public void Free(IommuDomain domain) => driver.Free(domain);
        public bool HasSetDevPasid => true;
        public Errno SetDevPasid(IommuDomain domain, Device dev, uint pasid, IommuDomain? old) => driver.SetDevPasid(domain, dev, pasid);
        public void InvalidateSecondaryTlbs(IommuDomain domain) => driver.InvalidateSecondaryTlbs(domain);
    }
}

/// <summary>
/// struct arm_smmu_domain: a stage-1 paging domain finalised on <see cref="Smmu"/>. Its ASID is its domain id
/// (ids are never reused in a machine, so no ASID is either), which is how the snapshot names the domain an STE uses.
/// </summary>
public sealed class Smmuv3Domain(int id, IommuDomainOps ops, IommuDevice smmu, Smmuv3Device device, ArmLpaePgtable pgtable)
    : PagingDomain(id, ops, DriverNames.Smmuv3, pgtable)
{
    public IommuDevice Smmu => smmu;

    public int Asid => Id;

    /// <summary>Some STE has translated through it.</summary>
    public bool EverAttached { get; set; }

    // arm_smmu_iotlb_sync: TLBI by range over the gather (Leaf = 0 when it unlinked tables, so the walk cache goes too),
    // SYNC, and only then the unlinked table pages go
    protected internal override void IotlbSync(IotlbGather gather)
    {
        // Seeded bug table_free_leaf_tlbi: a leaf-only TLBI although tables were unlinked; their pages are freed under the walk cache.
        var leaf = gather.FreelistCount == 0 || pgtable.Bugs.IsOn(BugCatalogue.TableFreeLeafTlbi);
        if (!gather.IsEmpty) device.TlbInvRange(Asid, gather.Start, gather.End - gather.Start + 1, gather.Pgsize, leaf);
        gather.FreePages();
    }

    // arm_smmu_flush_iotlb_all → arm_smmu_tlb_inv_context: TLBI by ASID, then SYNC
    protected internal override void FlushIotlbAll() => device.TlbInvAsid(Asid);
}

/// <summary>struct arm_smmu_master: the driver's per-device data (dev_iommu_priv): its SMMU, stream id and CD table.</summary>
public sealed class Smmuv3Master(Smmuv3Device smmu, int sid)
{
    public Smmuv3Device Smmu => smmu;

    public int Sid => sid;

    /// <summary>cd_table: allocated at the first stage-1 attach (or PASID set), kept until the master is released.</summary>
    public Smmuv3CdTable? CdTable { get; set; }

    /// <summary>What the RID's domain asks of the STE (none before the first attach: the invalid STE reset left).</summary>
    public Smmuv3RidConfig Rid { get; set; }
}

/// <summary>The RID's side of a master's STE: its domain's kind.</summary>
public enum Smmuv3RidConfig { None, Abort, Bypass, Paging }
