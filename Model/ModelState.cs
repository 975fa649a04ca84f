using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>The result of one model step: the allowed outcome and the next state (the same instance when the step failed).</summary>
public readonly record struct ModelStep(Outcome Outcome, ModelState Next);

/// <summary>
/// The reference model's state: immutable; <see cref="Step"/> returns a new state. Abstract: groups with their
/// members, default-domain type, current domain and ownership; the bound drivers; the handle table of the
/// trace's paging domains. One method per operation lives in <c>Operations/ModelState.*.cs</c>; a failed step
/// returns this very instance, except the non-atomic failures the kernel leaves behind (docs/operations.md: an
/// aborted <c>bus_probe</c>, a refused first attach in a group that keeps other members). Equality is structural.
/// </summary>
public sealed partial class ModelState : IEquatable<ModelState>
{
    private readonly Machine machine;
    private readonly ImmutableSortedDictionary<string, GroupState> groups;
    private readonly ImmutableSortedSet<string> bound;
    private readonly ImmutableSortedDictionary<string, UserDomain> domains;
    private readonly long nextSeq;

    private ModelState(
        Machine machine,
        ImmutableSortedDictionary<string, GroupState> groups,
        ImmutableSortedSet<string> bound,
        ImmutableSortedDictionary<string, UserDomain> domains,
        long nextSeq)
    {
        this.machine = machine;
        this.groups = groups;
        this.bound = bound;
        this.domains = domains;
        this.nextSeq = nextSeq;
    }

    /// <summary>The PASID arrays, mms, SVA domains and bonds (Operations/ModelState.Pasid.cs, ModelState.Sva.cs).</summary>
    private PasidState Pasid { get; init; } = PasidState.Empty;

    /// <summary>The machine after registering every IOMMU instance: nothing probed, nothing bound, no handles.</summary>
    public static ModelState Initial(SystemConfig config, Topology topology) =>
        new(new Machine(config, topology), ImmutableSortedDictionary<string, GroupState>.Empty.WithComparers(StringComparer.Ordinal),
            ImmutableSortedSet<string>.Empty.WithComparer(StringComparer.Ordinal),
            ImmutableSortedDictionary<string, UserDomain>.Empty.WithComparers(StringComparer.Ordinal), 0);

    /// <summary>The fixed part of the machine: config, topology, driver facts.</summary>
    public Machine Machine => machine;

    /// <summary>
    /// Runs one operation. An operation this model has no method for is a suite bug, not an answer: it throws
    /// <see cref="NotSupportedException"/> naming the operation.
    /// </summary>
    private ModelStep StepCore(Operation op) => op switch
    {
        Probe o => ProbeDevice(o),
        BusProbe o => BusProbe(o),
        Release o => ReleaseDevice(o),
        GetDomain o => GetDomainForDev(o),
        GroupTypeRead o => GroupTypeShow(o),
        GroupTypeWrite o => GroupTypeStore(o),
        DomainAllocPaging o => DomainAllocPaging(o),
        DomainFree o => DomainFree(o),
        AttachDevice o => AttachDevice(o),
        DetachDevice o => DetachDevice(o),
        AttachGroup o => AttachGroup(o),
        DetachGroup o => DetachGroup(o),
        DriverBind o => DriverBind(o),
        DriverUnbind o => DriverUnbind(o),
        ClaimDmaOwner o => ClaimDmaOwner(o),
        ReleaseDmaOwner o => ReleaseDmaOwner(o),
        ClaimGroupDmaOwner o => ClaimGroupDmaOwner(o),
        ReleaseGroupDmaOwner o => ReleaseGroupDmaOwner(o),
        Map o => MapRange(o),
        Unmap o => UnmapRange(o),
        IovaToPhys o => IovaToPhys(o),
        DeviceDma o => DeviceDma(o),
        MmNew o => MmNew(o),
        MmExit o => MmExit(o),
        MmMap o => MmMap(o),
        SvaBind o => SvaBind(o),
        SvaUnbind o => SvaUnbind(o),
        SvaGetPasid o => SvaGetPasid(o),
        AttachDevicePasid o => AttachDevicePasid(o),
        ReplaceDevicePasid o => ReplaceDevicePasid(o),
        DetachDevicePasid o => DetachDevicePasid(o),
        DmaMap o => DmaMapPage(o),
        DmaUnmap o => DmaUnmapPage(o),
        Tick o => TickClock(o),
        FailNth o => FailNthArm(o),
        _ => throw new NotSupportedException($"the model has no method for operation '{op.Name}' ({op.GetType().Name})"),
    };

    // Whether a failed map left some domain's tables untold (UserDomain.Alternatives), found once per state: every
    // judgement and DMA route asks, and the state never changes.
    private int _undecided = -1;   // -1 not yet known, 0 no, 1 yes

    /// <summary>Whether some domain carries <see cref="UserDomain.Alternatives"/>.</summary>
    internal bool HasUndecidedDomain
    {
        get
        {
            if (_undecided < 0)
            {
                _undecided = 0;
                foreach (var d in domains.Values)
                    if (!d.Alternatives.IsDefaultOrEmpty) { _undecided = 1; break; }
            }
            return _undecided == 1;
        }
    }

    // ---- equality: structural, so that equal states reached by different paths compare equal ----
    public bool Equals(ModelState? other) =>
        other is not null && (ReferenceEquals(this, other) ||
            (machine.Config == other.machine.Config && machine.Topology.Equals(other.machine.Topology)
             && nextSeq == other.nextSeq && bound.SetEquals(other.bound)
             && groups.Count == other.groups.Count
             && groups.All(g => other.groups.TryGetValue(g.Key, out var o) && g.Value.Equals(o))
             && domains.Count == other.domains.Count
             && domains.All(d => other.domains.TryGetValue(d.Key, out var o) && d.Value.Equals(o))
             && Pasid.Equals(other.Pasid) && Dma.Equals(other.Dma) && UnitTables.SetEquals(other.UnitTables)));

    public override bool Equals(object? obj) => Equals(obj as ModelState);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(nextSeq);
        foreach (var g in groups.Values) hash.Add(g);
        foreach (var d in domains.Values) hash.Add(d);
        foreach (var b in bound) hash.Add(b);
        hash.Add(Pasid);
        hash.Add(UnitTables.Count);
        return hash.ToHashCode();
    }
}
