using System.Collections.Frozen;
using IommuConformance.Contract;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// Every outcome each operation can have, read off the model's code (Model/Operations/*.cs): the errno and the set
/// of warnings raised (in the order raised, each once), e.g. <c>EINVAL [late_probe_at_driver_bind,
/// default_domain_first_attach_failed]</c>. <see cref="Reachable"/> are the outcomes the default run must hit (a test
/// holds the generator to it); <see cref="Unreachable"/> are combinations the code seems to allow but no state of
/// this slice reaches, each with the reason. docs/generation.md prints both.
/// </summary>
public static partial class OutcomeCatalogue
{
    private const string LateProbe = Warn.LateProbeAtDriverBind;
    private const string FirstAttach = Warn.DefaultDomainFirstAttachFailed;
    private const string NoFail = Warn.SetDomainNoFailFailed;
    private const string NullDomain = Warn.SetDomainNullDomain;
    private const string Revert = Warn.SetDomainRevertFailed;
    private const string Unbalanced = Warn.UnuseDefaultDomainUnbalanced;
    private const string InUse = Warn.ReleaseDeviceGroupInUse;
    private const string NotOwned = Warn.ReleaseDmaOwnerNotOwned;
    private const string ClaimNull = Warn.ClaimDmaOwnerNull;
    private const string Fallback = Warn.DefaultDomainFallbackDma;

    /// <summary>The catalogue key of an outcome: the errno, then the warnings in the order raised, each once.</summary>
    public static string Key(Outcome outcome) =>
        outcome.Warnings.IsEmpty ? ErrnoKeys.GetOrAdd(outcome.Errno, static e => e.ToString()) : Key(outcome.Errno, [.. outcome.Warnings]);

    // The campaign keys every step: most outcomes carry no warning, and their key is the errno's name.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Errno, string> ErrnoKeys = new();

    public static string Key(Errno errno, params string[] warnings)
    {
        if (warnings.Length == 0) return errno.ToString();
        var distinct = new List<string>(warnings.Length);
        foreach (var w in warnings.Select(Generic))
            if (!distinct.Contains(w)) distinct.Add(w);
        return $"{errno} [{string.Join(", ", distinct)}]";
    }

    /// <summary>A per-device fault line with its device left out (<c>fault_injection_dev_iommu@DEV</c>): one key for every device.</summary>
    public static string Generic(string warning) =>
        Warn.FaultSites.TryParse(warning, out var site, out var dev) && dev is not null ? Dev(site) : warning;

    private static string Dev(string site) => Warn.FaultInjectionPrefix + Warn.FaultSites.Key(site, "DEV");

    private static (string Op, string Key) O(OpSpecName op, Errno errno, params string[] warnings) => (op.Name, Key(errno, warnings));

    private readonly record struct OpSpecName(string Name);

    private static readonly OpSpecName ProbeOp = new(Probe.Entry.Name), BusProbeOp = new(BusProbe.Entry.Name),
        ReleaseOp = new(Release.Entry.Name), GetDomainOp = new(GetDomain.Entry.Name), TypeReadOp = new(GroupTypeRead.Entry.Name),
        TypeWriteOp = new(GroupTypeWrite.Entry.Name), AllocOp = new(DomainAllocPaging.Entry.Name), FreeOp = new(DomainFree.Entry.Name),
        AttachDevOp = new(AttachDevice.Entry.Name), DetachDevOp = new(DetachDevice.Entry.Name), AttachGroupOp = new(AttachGroup.Entry.Name),
        DetachGroupOp = new(DetachGroup.Entry.Name), BindOp = new(DriverBind.Entry.Name), UnbindOp = new(DriverUnbind.Entry.Name),
        ClaimOp = new(ClaimDmaOwner.Entry.Name), ReleaseOwnerOp = new(ReleaseDmaOwner.Entry.Name),
        ClaimGroupOp = new(ClaimGroupDmaOwner.Entry.Name), ReleaseGroupOwnerOp = new(ReleaseGroupDmaOwner.Entry.Name);

    /// <summary>The outcomes the model can answer, by operation; the default run hits every one.</summary>
    public static readonly FrozenDictionary<string, IReadOnlyList<string>> Reachable = Group(
    [
        // probe: already probed OK; no IOMMU or a bus the driver refuses ENODEV; a bound device warns and goes on;
        // joining a live group the device refuses EINVAL; a new default domain's resolution EINVAL / EOPNOTSUPP;
        // a refused first attach EINVAL with its warning.
        O(ProbeOp, Errno.OK), O(ProbeOp, Errno.OK, LateProbe), O(ProbeOp, Errno.ENODEV),
        O(ProbeOp, Errno.EINVAL), O(ProbeOp, Errno.EINVAL, LateProbe), O(ProbeOp, Errno.EINVAL, FirstAttach),
        O(ProbeOp, Errno.EINVAL, LateProbe, FirstAttach), O(ProbeOp, Errno.EOPNOTSUPP), O(ProbeOp, Errno.EOPNOTSUPP, LateProbe),
        // bus_probe: the same per device (ENODEV ignored), then the queued groups' default domains.
        O(BusProbeOp, Errno.OK), O(BusProbeOp, Errno.OK, LateProbe), O(BusProbeOp, Errno.EINVAL),
        O(BusProbeOp, Errno.EINVAL, LateProbe), O(BusProbeOp, Errno.EINVAL, FirstAttach),
        O(BusProbeOp, Errno.EINVAL, LateProbe, FirstAttach), O(BusProbeOp, Errno.EOPNOTSUPP), O(BusProbeOp, Errno.EOPNOTSUPP, LateProbe),
        // a global IDENTITY default on a driver without an identity domain falls back to DMA with its pr_warn
        O(ProbeOp, Errno.OK, Fallback), O(ProbeOp, Errno.OK, LateProbe, Fallback), O(BusProbeOp, Errno.OK, Fallback),
        O(BusProbeOp, Errno.OK, LateProbe, Fallback), O(BusProbeOp, Errno.EINVAL, Fallback, FirstAttach),
        O(BusProbeOp, Errno.EINVAL, LateProbe, Fallback, FirstAttach),
        O(BusProbeOp, Errno.EOPNOTSUPP, Fallback), O(TypeWriteOp, Errno.OK, Fallback),
        O(ReleaseOp, Errno.OK), O(ReleaseOp, Errno.OK, Unbalanced), O(ReleaseOp, Errno.OK, InUse), O(ReleaseOp, Errno.OK, Unbalanced, InUse),
        O(GetDomainOp, Errno.OK),
        O(TypeReadOp, Errno.OK), O(TypeReadOp, Errno.ENODEV),
        O(TypeWriteOp, Errno.OK), O(TypeWriteOp, Errno.ENODEV), O(TypeWriteOp, Errno.EINVAL), O(TypeWriteOp, Errno.EPERM),
        O(TypeWriteOp, Errno.EOPNOTSUPP),
        O(AllocOp, Errno.OK), O(AllocOp, Errno.EEXIST), O(AllocOp, Errno.ENODEV), O(AllocOp, Errno.EOPNOTSUPP),
        O(FreeOp, Errno.OK), O(FreeOp, Errno.ENOENT), O(FreeOp, Errno.EBUSY),
        O(AttachDevOp, Errno.OK), O(AttachDevOp, Errno.ENOENT), O(AttachDevOp, Errno.ENODEV), O(AttachDevOp, Errno.EINVAL),
        O(AttachDevOp, Errno.EBUSY), O(AttachDevOp, Errno.EINVAL, Revert),
        O(AttachGroupOp, Errno.OK), O(AttachGroupOp, Errno.ENOENT), O(AttachGroupOp, Errno.ENODEV), O(AttachGroupOp, Errno.EINVAL),
        O(AttachGroupOp, Errno.EBUSY), O(AttachGroupOp, Errno.EINVAL, Revert),
        O(DetachDevOp, Errno.OK), O(DetachDevOp, Errno.ENOENT), O(DetachDevOp, Errno.OK, Warn.DetachDeviceDomainMismatch),
        O(DetachDevOp, Errno.OK, Warn.DetachDeviceNotSingleton), O(DetachDevOp, Errno.OK, NoFail), O(DetachDevOp, Errno.OK, NullDomain, NoFail),
        O(DetachGroupOp, Errno.OK), O(DetachGroupOp, Errno.ENOENT), O(DetachGroupOp, Errno.ENODEV), O(DetachGroupOp, Errno.OK, NoFail),
        O(DetachGroupOp, Errno.OK, NullDomain, NoFail),
        O(BindOp, Errno.OK), O(BindOp, Errno.EBUSY), O(BindOp, Errno.EPROBE_DEFER),
        O(UnbindOp, Errno.OK), O(UnbindOp, Errno.ENODEV), O(UnbindOp, Errno.OK, Unbalanced),
        O(ClaimOp, Errno.OK), O(ClaimOp, Errno.EINVAL, ClaimNull), O(ClaimOp, Errno.ENODEV), O(ClaimOp, Errno.EPERM),
        O(ClaimOp, Errno.EBUSY), O(ClaimOp, Errno.EINVAL),
        O(ClaimGroupOp, Errno.OK), O(ClaimGroupOp, Errno.EINVAL, ClaimNull), O(ClaimGroupOp, Errno.ENODEV), O(ClaimGroupOp, Errno.EPERM),
        O(ClaimGroupOp, Errno.EBUSY), O(ClaimGroupOp, Errno.EINVAL),
        O(ReleaseOwnerOp, Errno.OK), O(ReleaseOwnerOp, Errno.ENODEV), O(ReleaseOwnerOp, Errno.OK, NotOwned),
        O(ReleaseOwnerOp, Errno.OK, NoFail), O(ReleaseOwnerOp, Errno.OK, NullDomain, NoFail),
        O(ReleaseGroupOwnerOp, Errno.OK), O(ReleaseGroupOwnerOp, Errno.ENODEV), O(ReleaseGroupOwnerOp, Errno.OK, NotOwned),
        O(ReleaseGroupOwnerOp, Errno.OK, NoFail), O(ReleaseGroupOwnerOp, Errno.OK, NullDomain, NoFail),
        .. DmaPairs, .. DmaRare,
    ]);

    /// <summary>Combinations the code paths seem to allow that no state of this slice reaches, with the reason.</summary>
    public static readonly IReadOnlyList<(string Op, string Key, string Reason)> Unreachable =
    [
        (ClaimOp.Name, Key(Errno.EINVAL, Revert),
            "take-ownership starts on the default domain; a member refusing the blocking domain is reverted to the default, "
            + "which every member accepts (a BLOCKED-typed default is the blocking domain itself, so the switch is a no-op)"),
        (ClaimGroupOp.Name, Key(Errno.EINVAL, Revert), "as for claim_dma_owner"),
        (TypeWriteOp.Name, Key(Errno.EINVAL, Revert),
            "the new default is refused only when BLOCKED-typed, which only a static blocked default is, and then the "
            + "type is unchanged (a no-op)"),
        (TypeWriteOp.Name, Key(Errno.EINVAL, FirstAttach), "a group with a default domain always has a current domain"),
        (ProbeOp.Name, Key(Errno.EINVAL, Revert), "a joining device is only checked against the current domain; a new "
            + "default domain is set up on a group without a current domain (nothing to revert)"),
        (BusProbeOp.Name, Key(Errno.ENODEV), "bus_iommu_probe ignores ENODEV (the device stays unprobed)"),
        (AttachGroupOp.Name, Key(Errno.ENOENT) + " (from a member)", "a group's current user domain is always live"),
    ];

    private static readonly OpSpecName MapOp = new(Map.Entry.Name), UnmapOp = new(Unmap.Entry.Name),
        PhysOp = new(IovaToPhys.Entry.Name), DmaOp = new(DeviceDma.Entry.Name);

    /// <summary>
    /// The outcomes of the memory operations (and what they add to others), reachable with
    /// <see cref="TraceGenSettings.MemoryOps"/> on, read off Model/Rules/PageTableRules.cs and ModelState.Memory.cs
    /// over the four drivers. Values are not part of the key (an unmap's byte count, a DMA's address or fault reason).
    /// </summary>
    public static readonly IReadOnlyList<(string Op, string Key)> MemoryPairs =
    [
        // map: ENOENT handle; EINVAL alignment, size 0, bad prot, no access (smmuv3; vtd with its warning); ERANGE past
        // the aperture or OAS (smmuv3 with its warning); overmaps: smmuv3 EEXIST + warning, vtd EADDRINUSE, virtio
        // EINVAL, mock OK + overwrite warning.
        O(MapOp, Errno.OK), O(MapOp, Errno.ENOENT), O(MapOp, Errno.EINVAL), O(MapOp, Errno.EINVAL, Warn.PtMapNoAccess),
        O(MapOp, Errno.ERANGE), O(MapOp, Errno.ERANGE, Warn.ArmLpaeMapRange), O(MapOp, Errno.EEXIST, Warn.ArmLpaeMapExists),
        O(MapOp, Errno.EADDRINUSE), O(MapOp, Errno.OK, Warn.MockMapOverwrite),
        // unmap: always OK (bytes) but ENOENT for a dead handle; smmuv3 warns at empty entries and partial blocks; the
        // mock at empty slots and at ends that are not a map's ends.
        O(UnmapOp, Errno.OK), O(UnmapOp, Errno.ENOENT), O(UnmapOp, Errno.OK, Warn.ArmLpaeUnmapEmpty),
        O(UnmapOp, Errno.OK, Warn.ArmLpaeUnmapPartialLarge),
        O(UnmapOp, Errno.OK, Warn.MockUnmapEmpty, Warn.MockUnmapNotStart, Warn.MockUnmapNotLast),
        O(UnmapOp, Errno.OK, Warn.MockUnmapNotStart), O(UnmapOp, Errno.OK, Warn.MockUnmapNotLast),
        O(UnmapOp, Errno.OK, Warn.MockUnmapNotStart, Warn.MockUnmapNotLast),
        O(UnmapOp, Errno.OK, Warn.MockUnmapEmpty, Warn.MockUnmapNotLast),
        O(UnmapOp, Errno.OK, Warn.MockUnmapNotStart, Warn.MockUnmapEmpty, Warn.MockUnmapNotLast),
        O(PhysOp, Errno.OK), O(PhysOp, Errno.ENOENT), O(PhysOp, Errno.OK, Warn.MockIovaToPhysUnmapped),
        // device_dma: OK {phys}, EIO {fault}, EINVAL for size 0
        O(DmaOp, Errno.OK), O(DmaOp, Errno.EIO), O(DmaOp, Errno.EINVAL),
        // domain_free of a mock domain that still maps something
        O(FreeOp, Errno.OK, Warn.MockFreeNotEmpty),
    ];

    private static readonly OpSpecName MmNewOp = new(MmNew.Entry.Name), MmExitOp = new(MmExit.Entry.Name), MmMapOp = new(MmMap.Entry.Name), SvaBindOp = new(SvaBind.Entry.Name),
        SvaUnbindOp = new(SvaUnbind.Entry.Name), SvaPasidOp = new(SvaGetPasid.Entry.Name), PasidAttachOp = new(AttachDevicePasid.Entry.Name),
        PasidReplaceOp = new(ReplaceDevicePasid.Entry.Name), PasidDetachOp = new(DetachDevicePasid.Entry.Name);

    /// <summary>
    /// The outcomes of the PASID and SVA operations (issue #8), read off ModelState.Pasid.cs and ModelState.Sva.cs over the
    /// default run's drivers (smmuv3, mock, vtd: no EOPNOTSUPP from a driver without set_dev_pasid, which is virtio's).
    /// </summary>
    public static readonly IReadOnlyList<(string Op, string Key)> PasidPairs =
    [
        O(MmNewOp, Errno.OK), O(MmNewOp, Errno.EEXIST), O(MmExitOp, Errno.OK), O(MmExitOp, Errno.ENOENT),
        // mm_map: ENOENT dead mm; EINVAL no rights or misaligned; EEXIST a page already mapped
        O(MmMapOp, Errno.OK), O(MmMapOp, Errno.ENOENT), O(MmMapOp, Errno.EINVAL), O(MmMapOp, Errno.EEXIST),
        // sva_bind: ENOENT dead mm; ENODEV no group; EOVERFLOW the mm's PASID too wide; ENOSPC none left or no PASIDs;
        // EBUSY another mm's bond or an iommufd attach; EOPNOTSUPP the mock (no domain_alloc_sva); EINVAL a member
        // narrower than the PASID
        O(SvaBindOp, Errno.OK), O(SvaBindOp, Errno.ENOENT), O(SvaBindOp, Errno.ENODEV), O(SvaBindOp, Errno.EOVERFLOW),
        O(SvaBindOp, Errno.ENOSPC), O(SvaBindOp, Errno.EBUSY), O(SvaBindOp, Errno.EOPNOTSUPP), O(SvaBindOp, Errno.EINVAL),
        O(SvaUnbindOp, Errno.OK), O(SvaUnbindOp, Errno.ENOENT), O(SvaPasidOp, Errno.OK), O(SvaPasidOp, Errno.ENOENT),
        // attach_device_pasid: ENOENT handle; ENODEV; EINVAL owner, PASID 0, too wide, the driver's refusal; EBUSY taken
        O(PasidAttachOp, Errno.OK), O(PasidAttachOp, Errno.ENOENT), O(PasidAttachOp, Errno.ENODEV), O(PasidAttachOp, Errno.EINVAL),
        O(PasidAttachOp, Errno.EBUSY),
        // replace_device_pasid: as attach, EINVAL for a slot without iommufd's attach, ENOMEM from the mock's PASID 1024
        O(PasidReplaceOp, Errno.OK), O(PasidReplaceOp, Errno.ENOENT), O(PasidReplaceOp, Errno.EINVAL), O(PasidReplaceOp, Errno.ENOMEM),
        O(PasidDetachOp, Errno.OK), O(PasidDetachOp, Errno.ENOENT),
    ];

    /// <summary>
    /// Memory outcomes the model can answer that the memory run meets too rarely to require (listed, not held): a
    /// mock unmap starting in a hole and ending at a map's last slot; one starting inside a map, crossing a hole and
    /// ending at another map's last slot.
    /// </summary>
    public static readonly IReadOnlyList<(string Op, string Key)> MemoryRare =
    [
        O(UnmapOp, Errno.OK, Warn.MockUnmapEmpty, Warn.MockUnmapNotStart),
        O(UnmapOp, Errno.OK, Warn.MockUnmapNotStart, Warn.MockUnmapEmpty),
        // PASID outcomes of rare states: a bind under a live reference's name, no group at a replace or detach, the
        // mock's PASID-1024 injector armed on one member of a multi-device group (an attach refused, a rollback refused)
        O(SvaBindOp, Errno.EEXIST), O(PasidReplaceOp, Errno.ENODEV), O(PasidDetachOp, Errno.ENODEV), O(PasidAttachOp, Errno.ENOMEM),
        O(PasidReplaceOp, Errno.ENOMEM, Warn.SetDevPasidRevertFailed),
        // virtio (model-only runs): no set_dev_pasid
        O(PasidAttachOp, Errno.EOPNOTSUPP), O(PasidReplaceOp, Errno.EOPNOTSUPP),
    ];

    /// <summary>True unless the pair is one the runs meet too rarely to require (<see cref="MemoryRare"/>).</summary>
    public static bool Required(string op, string key) => !MemoryRare.Contains((op, key)) && !DmaRare.Contains((op, key));

    /// <summary>
    /// The core catalogue plus <see cref="MemoryPairs"/> and <see cref="MemoryRare"/>: what a run with the memory operations
    /// (the default run) may answer; it must hit every pair but the rare ones (<see cref="Required"/>).
    /// </summary>
    public static readonly FrozenDictionary<string, IReadOnlyList<string>> ReachableWithMemory =
        Group(Reachable.SelectMany(p => p.Value.Select(k => (p.Key, k))).Concat(MemoryPairs).Concat(PasidPairs).Concat(MemoryRare));

    /// <summary>The catalogue of a generation setting.</summary>
    public static FrozenDictionary<string, IReadOnlyList<string>> For(TraceGenSettings settings) =>
        settings.MemoryOps ? ReachableWithMemory : Reachable;

    /// <summary>The reachable outcomes of <paramref name="op"/> (empty for an operation the catalogue does not know).</summary>
    public static IReadOnlyList<string> Of(string op) => Reachable.GetValueOrDefault(op) ?? [];

    private static FrozenDictionary<string, IReadOnlyList<string>> Group(IEnumerable<(string Op, string Key)> entries) =>
        entries.GroupBy(e => e.Op, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Select(e => e.Key)], StringComparer.Ordinal);
}
