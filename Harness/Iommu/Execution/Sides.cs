using IommuConformance.Contract;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>The reference side as the IOMMU checks see it: a judge that also shows the model's state before and after the last step.</summary>
public interface IIommuJudge : IJudge
{
    /// <summary>The model's state after the last judged step.</summary>
    ModelState State { get; }

    /// <summary>The state the last judged step ran on.</summary>
    ModelState Before { get; }

    /// <summary>The model's answer to a read-only operation in its current state, without moving on.</summary>
    Outcome Read(Operation read);

    /// <summary>
    /// <see cref="Read"/> answers what <see cref="State"/>'s queries answer (<c>CurrentDomain</c>, <c>GroupType</c>), so
    /// the per-step observations may ask the queries without building outcomes (sweeps still go through Read).
    /// </summary>
    bool ReadsFollowState => false;
}

/// <summary>
/// The side under test as the IOMMU checks see it: it runs operations, reports what each one touched (a hint the
/// sweeps verify), and shows its state whole or object by object.
/// </summary>
public interface IIommuSystem : ISystem
{
    TouchedSet Touched { get; }

    /// <summary>
    /// Its snapshots carry everything its read-only operations answer, so per-step observations may be read off the
    /// harness's view (sweeps still ask the reads themselves).
    /// </summary>
    bool ReadsFollowSnapshots { get; }

    IReadOnlyList<string> HardwareErrors { get; }

    /// <summary>Its group snapshots carry the groups' PASID slots (<see cref="GroupSnapshot.Pasids"/>), which <see cref="PasidCheck"/> compares.</summary>
    bool ShowsPasidSlots => false;

    SystemSnapshot Snapshot();

    DeviceSnapshot SnapshotDevice(string name);

    GroupSnapshot? SnapshotGroup(int id);

    DomainSnapshot? SnapshotDomain(int id);
}

/// <summary>The reference model as the run's judge (reusing the generator's steps where it can, <see cref="ModelTrail"/>).</summary>
public sealed class ModelJudge(ModelState initial, ModelTrail? trail = null) : IIommuJudge
{
    private int _judged;

    public ModelState State { get; private set; } = initial;

    public ModelState Before { get; private set; } = initial;

    public Outcome Read(Operation read) => State.Step(read).Outcome;

    public bool ReadsFollowState => true;

    public Judgement Judge(Operation op, Outcome observed)
    {
        var judgement = State.Judge(op, observed, trail?.Known(_judged++, State, op));
        Before = State;
        State = judgement.Next;
        return new Judgement(judgement.Allowed, judgement.Expected);
    }
}

/// <summary>The kernel-shaped implementation as the run's system under test.</summary>
public sealed class ImplementationSystem(IommuSystem system) : IIommuSystem, IHardwareView, IIovaView
{
    /// <summary>The machine itself (tests perturb its hardware through it).</summary>
    public IommuSystem Machine => system;

    public Outcome Execute(Operation op) => system.Execute(op);

    public TouchedSet Touched => system.Touched;

    public bool ReadsFollowSnapshots => true;

    public bool ShowsPasidSlots => true;

    public IReadOnlyList<string> HardwareErrors => system.HardwareErrors;

    public SystemSnapshot Snapshot() => system.Snapshot();

    public DeviceSnapshot SnapshotDevice(string name) => system.SnapshotDevice(name);

    public GroupSnapshot? SnapshotGroup(int id) => system.SnapshotGroup(id);

    public DomainSnapshot? SnapshotDomain(int id) => system.SnapshotDomain(id);

    public IReadOnlyList<Implementations.Hardware.PossibleTranslation> PossibleTranslations(string dev, ulong iova, bool write) =>
        system.PossibleTranslations(dev, iova, write);

    public void PossibleTranslations(string dev, ulong iova, bool write, List<Implementations.Hardware.PossibleTranslation> found) =>
        system.PossibleTranslations(dev, iova, write, found);

    public IReadOnlyList<Implementations.Hardware.PossibleTranslation> PossiblePasidTranslations(string dev, uint pasid, ulong iova, bool write) =>
        system.PossiblePasidTranslations(dev, pasid, iova, write);

    public IReadOnlyCollection<uint> PasidsInUse(string dev) => system.PasidsInUse(dev);

    public IReadOnlyList<Implementations.Hardware.IotlbEntry> LiveIotlbEntries(string instance) => system.LiveIotlbEntries(instance);

    public IReadOnlyList<Implementations.Hardware.HardwareTable> HardwareTablesOf(string dev, bool withPages) =>
        system.HardwareTablesOf(dev, withPages);

    public DomainTables? TablesOfDomain(int id) => system.TablesOfDomain(id);

    public int TableBlockOrder(ulong phys) => system.TableBlockOrder(phys);

    public string? DriverHardwareDisagreement(int id) => system.DriverHardwareDisagreement(id);

    public IEnumerable<int> IovaDomainIds() => system.IovaDomainIds();

    public IovaDomainSnapshot? SnapshotIova(int domainId) => system.SnapshotIova(domainId);

    public string? TearDownAndAudit() => system.TearDownAndAudit();
}

/// <summary>
/// A system that can only show its whole state: it reports everything as touched after every step, and answers
/// object snapshots from a full one. For test doubles and for back-ends that cannot say what they touched.
/// </summary>
public abstract class WholeStateSystem : IIommuSystem
{
    private SystemSnapshot? _last;

    public abstract Outcome Execute(Operation op);

    protected abstract SystemSnapshot Read();

    public SystemSnapshot Snapshot() => _last = Read();

    public bool ReadsFollowSnapshots => false;

    public TouchedSet Touched
    {
        get
        {
            var before = _last;
            var now = Snapshot();
            return TouchedSet.Of(
                now.Devices.Select(d => d.Name),
                now.Groups.Select(g => g.Id).Concat(before?.Groups.Select(g => g.Id) ?? []),
                now.Domains.Select(d => d.Id).Concat(before?.Domains.Select(d => d.Id) ?? []));
        }
    }

    public IReadOnlyList<string> HardwareErrors => (_last ?? Snapshot()).HardwareErrors;

    public DeviceSnapshot SnapshotDevice(string name) => (_last ?? Snapshot()).Devices.First(d => d.Name == name);

    public GroupSnapshot? SnapshotGroup(int id) => (_last ?? Snapshot()).Groups.FirstOrDefault(g => g.Id == id);

    public DomainSnapshot? SnapshotDomain(int id) => (_last ?? Snapshot()).Domains.FirstOrDefault(d => d.Id == id);
}
