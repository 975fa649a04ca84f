using System.Collections.Immutable;

namespace IommuConformance.Contract;

/// <summary>
/// What one emulated driver offers (spec §2 table, docs/operations.md "Drivers of this slice"), as data: the model's
/// rules read these facts instead of switching on driver names. The implementation's drivers keep their own code.
/// </summary>
/// <param name="Driver">The driver name (<see cref="DriverNames"/>).</param>
/// <param name="Buses">The buses whose devices <c>probe_device</c> accepts; any other → -ENODEV.</param>
/// <param name="StaticBlockedDefault">ops->default_domain is a static BLOCKED domain that is also ops->blocked_domain.</param>
/// <param name="IdentityDomain">An identity domain can be had (before <see cref="OptionKnobs"/> are applied).</param>
/// <param name="DeferredFlush">capable(IOMMU_CAP_DEFERRED_FLUSH) (before <see cref="OptionKnobs"/> are applied).</param>
/// <param name="DomainPerInstance">A paging domain is finalised on the instance it was allocated for; attach from another → -EINVAL.</param>
/// <param name="DirtyTracking">Dirty-tracking paging domains, for devices that are not <c>noDirty</c>.</param>
/// <param name="HonoursDefDomainType">def_domain_type() is consulted (a static default domain overrides it).</param>
/// <param name="OptionKnobs">The per-instance options (spec §5 names) that override the defaults above.</param>
/// <param name="Paging">The page-table facts of the driver's paging domains (sizes, aperture, overmap and unmap rules).</param>
public sealed record DriverCapabilities(
    string Driver,
    ImmutableArray<string> Buses,
    bool StaticBlockedDefault,
    bool IdentityDomain,
    bool DeferredFlush,
    bool DomainPerInstance,
    bool DirtyTracking,
    bool HonoursDefDomainType,
    ImmutableArray<string> OptionKnobs,
    PageTableCaps Paging)
{
    /// <summary>
    /// <c>ops->domain_alloc_sva</c>: SVA domains for PASID binds of a process mm (smmuv3, vtd; spec §2 table). PASID
    /// attach itself (<c>set_dev_pasid</c> on the paging and blocked domains) is <see cref="PageTableCaps.Pasid"/>.
    /// </summary>
    public bool Sva { get; init; }

    /// <summary>
    /// PASID-tagged DMA is translated by the hardware (smmuv3: the stream's CD table by SSID; vtd: the scalable-mode
    /// PASID directory and table). Without it (the mock, whose PASIDs live in the selftest's xarray only; virtio, no
    /// PASIDs) a <c>device_dma</c> with a PASID answers <c>no_domain</c>.
    /// </summary>
    public bool PasidTranslation { get; init; }

    /// <summary>
    /// PASID translation comes with the instance option <c>scalable</c> (vtd: only a unit in scalable mode has a PASID
    /// table; in legacy mode the kernel's max_pasids is 0, which this emulation does not follow: docs/pasid-sva.md).
    /// </summary>
    public bool PasidTranslationWhenScalable { get; init; }

    /// <summary>
    /// The driver's set_dev_pasid reads the PASID entry as the hardware has it (vtd scalable mode: with an old domain
    /// the intel_pasid_replace_* path, which refuses an entry not present with -EINVAL; without one the
    /// intel_pasid_setup_* path, which refuses a present entry with -EBUSY), and the mm's release tears down its SVA
    /// PASID entries (intel_mm_release: a DMA of an exited mm's PASID finds no entry).
    /// </summary>
    public bool PasidEntryStrict { get; init; }

    /// <summary>
    /// The iommufd selftest's fault injector on PASID 1024 (IOMMU_TEST_PASID_RESERVED) in <c>set_dev_pasid</c>: the first
    /// non-blocked set arms it, the next fails with -ENOMEM and disarms it, a blocked set disarms it.
    /// </summary>
    public bool PasidFaultInjector { get; init; }

    /// <summary>
    /// The fault sites of the driver's <c>probe_device</c>, in its order (docs/dma.md "Fault injection"): met after
    /// <c>dev_iommu</c> and before the group; a failure is -ENOMEM with the device unwound. The selftest mock allocates
    /// nothing there.
    /// </summary>
    public ImmutableArray<string> ProbeSites { get; init; } = [];

    /// <summary>
    /// The fault sites of the driver's <c>attach_dev</c> for a target that is not BLOCKED-typed (docs/dma.md "Fault
    /// injection"): met after the driver's own compatibility checks; a failure is that device's -ENOMEM refusal, met once.
    /// </summary>
    public ImmutableArray<string> AttachSites { get; init; } = [];

    /// <summary>
    /// The fault sites of the driver's <c>attach_dev</c> for a paging domain that a device meets only until one such
    /// attach got past them since its probe (smmuv3's CD table, kept until the device is released): met after the
    /// driver's compatibility checks; a failure is that device's -ENOMEM refusal, met once.
    /// </summary>
    public ImmutableArray<string> FirstPagingAttachSites { get; init; } = [];

    /// <summary>
    /// The fault sites of the driver's <c>attach_dev</c> that a device meets at its first attach to a domain that is not
    /// BLOCKED-typed since its probe (a scalable VT-d unit's first PASID table, for the RID's own entry), and that a
    /// <c>set_dev_pasid</c> meets when no such attach made it: failures answer <see cref="PasidLeafErrno"/>.
    /// </summary>
    public ImmutableArray<string> FirstEntrySites { get; init; } = [];

    /// <summary>
    /// The fault site of a table an instance makes at its first present entry and keeps (a legacy-mode VT-d unit's
    /// context table, iommu_context_addr): met at any device's attach to a domain that is not BLOCKED-typed while the
    /// instance has none; until then every device of the instance meets a root-entry fault (<c>no_domain</c>). Null: none.
    /// </summary>
    public string? UnitTableSite { get; init; }

    /// <summary>
    /// A driver whose <c>set_dev_pasid</c> allocates the device's PASID table when no attach made it (the site of
    /// <see cref="FirstPagingAttachSites"/>, where there is one) and, past <see cref="PasidLeafBits"/> bits of PASID, the
    /// table's leaf at that PASID's first set (smmuv3's CD table and its 1,024-CD leaves, arm_smmu_alloc_cd_ptr; a
    /// scalable VT-d unit's PASID tables, intel_pasid_get_entry); all kept until the device is released. Null: none.
    /// </summary>
    public string? PasidLeafSite { get; init; }

    /// <summary>
    /// log2 of the PASIDs one leaf of the PASID table holds (smmuv3 CTXDESC_L2_ENTRIES = 1,024, a device of at most that
    /// many has one level; VT-d a PASID table of 64 entries per directory slot).
    /// </summary>
    public int PasidLeafBits { get; init; }

    /// <summary>What a set answers when a leaf of its PASID table cannot be allocated (VT-d's setup: -ENODEV).</summary>
    public Errno PasidLeafErrno { get; init; } = Errno.ENOMEM;

    /// <summary>
    /// What a DMA by a device no attach has reached since its probe (its first attach failed) meets while its group
    /// has a domain: the entry the IOMMU's reset left. VT-d a context entry not present (once its unit has made its
    /// context table; before, a root entry not present, <c>no_domain</c>: <see cref="UnitTableSite"/>), virtio an endpoint the device
    /// has not attached with config.bypass cleared: <c>blocked</c>; smmuv3 the invalid STE the emulation's reset leaves
    /// (C_BAD_STE, where the kernel's own writes abort ones) and the mock's empty record: <c>no_domain</c>
    /// (docs/hardware.md, "Fault vocabulary").
    /// </summary>
    public string NeverAttachedFault { get; init; } = DmaFaults.Blocked;

    /// <summary>The PASID of the mock's fault injector.</summary>
    public const ulong InjectorPasid = 1024;

    /// <summary>The instance's <c>max_pasids</c> when the driver has PASIDs: 2^20 (SMMU SSIDSIZE, VT-d PSS, MOCK_PASID_WIDTH).</summary>
    public const int InstanceMaxPasids = 1 << 20;

    /// <summary>Instance option <c>identityDomain</c>.</summary>
    public const string IdentityDomainKnob = "identityDomain";

    /// <summary>Instance option <c>deferredFlush</c>.</summary>
    public const string DeferredFlushKnob = "deferredFlush";

    /// <summary>arm-smmu-v3: static blocked and identity domains, domains finalised on one SMMU, no HTTU.</summary>
    public static readonly DriverCapabilities Smmuv3 = new(DriverNames.Smmuv3, [BusNames.Pci, BusNames.Platform],
        StaticBlockedDefault: false, IdentityDomain: true, DeferredFlush: true, DomainPerInstance: true,
        DirtyTracking: false, HonoursDefDomainType: true, OptionKnobs: [IdentityDomainKnob, DeferredFlushKnob],
        Paging: PageTableCaps.Smmuv3)
    {
        Sva = true, PasidTranslation = true, ProbeSites = [Warn.FaultSites.ArmSmmuMaster], NeverAttachedFault = DmaFaults.NoDomain,
        FirstPagingAttachSites = [Warn.FaultSites.ArmSmmuCdTable], PasidLeafSite = Warn.FaultSites.ArmSmmuCdLeaf, PasidLeafBits = 10,
    };

    /// <summary>The iommufd selftest mock: its private bus (platform), a static BLOCKED default, dirty tracking.</summary>
    public static readonly DriverCapabilities Mock = new(DriverNames.Mock, [BusNames.Platform],
        StaticBlockedDefault: true, IdentityDomain: false, DeferredFlush: false, DomainPerInstance: false,
        DirtyTracking: true, HonoursDefDomainType: false, OptionKnobs: [],
        Paging: PageTableCaps.Mock) { PasidFaultInjector = true, NeverAttachedFault = DmaFaults.NoDomain };

    /// <summary>
    /// Intel VT-d: PCI devices only, static blocked and identity domains, a paging domain may span IOMMUs, deferred
    /// flush, device_def_domain_type honoured; second-stage tables with generic_pt rules.
    /// </summary>
    public static readonly DriverCapabilities Vtd = new(DriverNames.Vtd, [BusNames.Pci],
        StaticBlockedDefault: false, IdentityDomain: true, DeferredFlush: true, DomainPerInstance: false,
        DirtyTracking: false, HonoursDefDomainType: true, OptionKnobs: [IdentityDomainKnob, DeferredFlushKnob],
        Paging: PageTableCaps.Vtd)
    {
        Sva = true, PasidTranslationWhenScalable = true, ProbeSites = [Warn.FaultSites.DeviceDomainInfo], UnitTableSite = Warn.FaultSites.IntelContextTable,
    };

    /// <summary>
    /// virtio-iommu: PCI and platform endpoints, identity through bypass, a domain finalised on one device
    /// (viommu_attach_dev: another viommu → -EINVAL), deferred flush (single queue); the device keeps the mappings.
    /// </summary>
    public static readonly DriverCapabilities Virtio = new(DriverNames.Virtio, [BusNames.Pci, BusNames.Platform],
        StaticBlockedDefault: false, IdentityDomain: true, DeferredFlush: true, DomainPerInstance: true,
        DirtyTracking: false, HonoursDefDomainType: false, OptionKnobs: [IdentityDomainKnob, DeferredFlushKnob],
        Paging: PageTableCaps.Virtio)
    {
        // the endpoint, then (every emulated device has VIRTIO_IOMMU_F_PROBE) the PROBE buffer and its queued request
        ProbeSites = [Warn.FaultSites.ViommuEndpoint, Warn.FaultSites.ViommuProbe, Warn.FaultSites.ViommuProbeReq],
        AttachSites = [Warn.FaultSites.ViommuAttachReq],
    };

    /// <summary>The driver table's entry, or null for an unknown driver.</summary>
    public static DriverCapabilities? For(string driver) => driver switch
    {
        DriverNames.Smmuv3 => Smmuv3,
        DriverNames.Mock => Mock,
        DriverNames.Vtd => Vtd,
        DriverNames.Virtio => Virtio,
        _ => null,
    };

    /// <summary>The capabilities of one instance: its options override the defaults where the driver has the knob.</summary>
    public static DriverCapabilities? For(IommuSpec instance) =>
        For(instance.Driver) is { } caps ? Applied.GetOrAdd((instance.Driver, instance.Options), static (_, c) => c.caps.With(c.options), (caps, options: instance.Options)) : null;

    // With is a pure function of the driver's defaults and the options: made once per pair (checks ask per step).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Driver, IommuOptions Options), DriverCapabilities> Applied = new();

    /// <summary>These capabilities with <paramref name="options"/> applied to the knobs the driver honours.</summary>
    public DriverCapabilities With(IommuOptions options)
    {
        // a VT-d unit in scalable mode, and one whose PASIDs are on (options.pasid false: max_pasids 0, hence no SVA either)
        var scalable = PasidTranslationWhenScalable && options.Scalable == true;
        var scalablePasids = scalable && options.Pasid != false;
        return this with
        {
            IdentityDomain = OptionKnobs.Contains(IdentityDomainKnob) ? options.IdentityDomain ?? IdentityDomain : IdentityDomain,
            DeferredFlush = OptionKnobs.Contains(DeferredFlushKnob) ? options.DeferredFlush ?? DeferredFlush : DeferredFlush,
            Paging = options.Pasid == false ? Paging with { Pasid = false } : Paging,
            Sva = Sva && options.Pasid != false,
            PasidTranslation = PasidTranslation || scalablePasids,
            PasidEntryStrict = PasidEntryStrict || scalablePasids,
            // scalable mode's context tables are made at boot here (docs/dma.md): only a legacy unit makes one at its first entry
            UnitTableSite = scalable ? null : UnitTableSite,
            // intel_pasid_alloc_table in probe_device, after the device_domain_info; intel_pasid_get_entry's tables of 64
            ProbeSites = scalable ? ProbeSites.Add(Warn.FaultSites.IntelPasidDir) : ProbeSites,
            FirstEntrySites = scalable ? [Warn.FaultSites.IntelPasidTable] : FirstEntrySites,
            PasidLeafSite = scalablePasids ? Warn.FaultSites.IntelPasidTable : PasidLeafSite,
            PasidLeafBits = scalablePasids ? 6 : PasidLeafBits,
            PasidLeafErrno = scalable ? Errno.ENODEV : PasidLeafErrno,
        };
    }

    /// <summary>Whether <c>probe_device</c> accepts a device of <paramref name="bus"/>.</summary>
    public bool Accepts(string bus) => Buses.Contains(bus);

    public bool Equals(DriverCapabilities? other) =>
        other is not null && Driver == other.Driver && Buses.SequenceEqual(other.Buses)
        && StaticBlockedDefault == other.StaticBlockedDefault && IdentityDomain == other.IdentityDomain
        && DeferredFlush == other.DeferredFlush && DomainPerInstance == other.DomainPerInstance
        && DirtyTracking == other.DirtyTracking && HonoursDefDomainType == other.HonoursDefDomainType
        && OptionKnobs.SequenceEqual(other.OptionKnobs) && Paging == other.Paging && Sva == other.Sva && PasidFaultInjector == other.PasidFaultInjector
        && PasidTranslation == other.PasidTranslation && PasidTranslationWhenScalable == other.PasidTranslationWhenScalable
        && PasidEntryStrict == other.PasidEntryStrict && ProbeSites.SequenceEqual(other.ProbeSites)
        && AttachSites.SequenceEqual(other.AttachSites) && FirstPagingAttachSites.SequenceEqual(other.FirstPagingAttachSites)
        && FirstEntrySites.SequenceEqual(other.FirstEntrySites)
        && UnitTableSite == other.UnitTableSite && PasidLeafSite == other.PasidLeafSite && PasidLeafBits == other.PasidLeafBits && PasidLeafErrno == other.PasidLeafErrno
        && NeverAttachedFault == other.NeverAttachedFault;

    public override int GetHashCode() => HashCode.Combine(Driver, StaticBlockedDefault, IdentityDomain, DeferredFlush);
}
