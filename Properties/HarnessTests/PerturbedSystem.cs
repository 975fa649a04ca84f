using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Model;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The project's implementation with a deliberate perturbation: after step <see cref="AtStep"/> has run, <see cref="Poke"/>
/// changes the machine's hardware through its public API (a stale IOTLB entry, a rewritten PTE, a freed table page),
/// as a buggy driver would leave it. It also counts what the hardware views answered, to show a check is not vacuous.
/// </summary>
internal sealed class PerturbedSystem(IommuSystem machine, int atStep, Action<IommuSystem>? poke) : IIommuSystem, IHardwareView
{
    private readonly ImplementationSystem _inner = new(machine);
    private int _step = -1;

    public int AtStep => atStep;
    public Action<IommuSystem>? Poke => poke;

    public int Probes { get; private set; }
    public int IotlbAnswers { get; private set; }
    public int IotlbEntriesSeen { get; private set; }
    public int TablePagesSeen { get; private set; }

    /// <summary>Sides for <see cref="Executor.Run(Trace, Func{Trace, ValueTuple{IIommuJudge, IIommuSystem}}, ExecutorChecks, Harness.Core.Checking.CheckMode)"/>; the last system built is in <paramref name="built"/>.</summary>
    public static Func<Trace, (IIommuJudge, IIommuSystem)> Sides(int atStep, Action<IommuSystem>? poke, List<PerturbedSystem>? built = null) => trace =>
    {
        var system = new PerturbedSystem(IommuSystem.Create(trace.Config, trace.Topology, trace.Bugs), atStep, poke);
        built?.Add(system);
        return (new ModelJudge(ModelState.Initial(trace.Config, trace.Topology)), system);
    };

    public Outcome Execute(Operation op)
    {
        var outcome = _inner.Execute(op);
        if (++_step == atStep) poke?.Invoke(machine);
        return outcome;
    }

    public TouchedSet Touched => _inner.Touched;
    public bool ReadsFollowSnapshots => _inner.ReadsFollowSnapshots;
    public IReadOnlyList<string> HardwareErrors => _inner.HardwareErrors;
    public SystemSnapshot Snapshot() => _inner.Snapshot();
    public DeviceSnapshot SnapshotDevice(string name) => _inner.SnapshotDevice(name);
    public GroupSnapshot? SnapshotGroup(int id) => _inner.SnapshotGroup(id);
    public DomainSnapshot? SnapshotDomain(int id) => _inner.SnapshotDomain(id);

    public IReadOnlyList<PossibleTranslation> PossibleTranslations(string dev, ulong iova, bool write)
    {
        var found = _inner.PossibleTranslations(dev, iova, write);
        Probes++;
        IotlbAnswers += found.Count(p => p.Source == TranslationSource.Iotlb);
        return found;
    }

    public IReadOnlyList<IotlbEntry> LiveIotlbEntries(string instance)
    {
        var entries = _inner.LiveIotlbEntries(instance);
        IotlbEntriesSeen += entries.Count;
        return entries;
    }

    public IReadOnlyList<HardwareTable> HardwareTablesOf(string dev, bool withPages) => _inner.HardwareTablesOf(dev, withPages);

    public DomainTables? TablesOfDomain(int id)
    {
        var t = _inner.TablesOfDomain(id);
        TablePagesSeen += t?.Pages.Count ?? 0;
        return t;
    }

    public int TableBlockOrder(ulong phys) => _inner.TableBlockOrder(phys);
}
