using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>Hand-made traces, snapshots and fake sides for the harness tests.</summary>
internal static class Fixtures
{
    public static readonly Topology TwoDeviceGroup = new(
        [new IommuSpec("smmu0", DriverNames.Smmuv3, IommuOptions.None), new IommuSpec("mock0", DriverNames.Mock, new IommuOptions(false, true, null, 64, false))],
        [
            new DeviceSpec("dev0", BusNames.Pci, "smmu0", "g0"),
            new DeviceSpec("dev1", BusNames.Pci, "smmu0", "g0", MaxPasids: 8, Untrusted: true, DefDomainType: "DMA"),
            new DeviceSpec("rd", BusNames.Platform, "smmu0", "g1", RequireDirect: true, NoDirty: true),
            new DeviceSpec("bare", BusNames.Pci, null, "g2"),
        ]);

    /// <summary>One step of every operation of the vocabulary, with every kind of argument.</summary>
    public static Trace EveryOperation() => new(
        "every operation",
        [],
        new SystemConfig(4, DefaultDomainType.Identity),
        TwoDeviceGroup,
        [
            new(new Probe("dev0"), new Expect(Errno.OK)),
            new(new BusProbe("platform")),
            new(new Release("dev1")),
            new(new GetDomain("dev0"), new Expect(Errno.OK, "default")),
            new(new GroupTypeRead("dev0"), new Expect(Errno.OK, "DMA-FQ", [])),
            new(new GroupTypeWrite("dev0", "identity")),
            new(new DomainAllocPaging("dev0", "d1")),
            new(new DomainAllocPaging("dev0", "d2", AllocFlags.DirtyTracking), new Expect(Errno.EOPNOTSUPP)),
            new(new AttachDevice("d1", "dev0")),
            new(new DetachDevice("d1", "dev0"), new Expect(Errno.OK, null, [Warn.DetachDeviceDomainMismatch])),
            new(new AttachGroup("d1", "dev1")),
            new(new DetachGroup("d1", "dev1")),
            new(new DriverBind("dev0")),
            new(new DriverUnbind("dev0")),
            new(new ClaimDmaOwner("dev0", null), new Expect(Errno.EINVAL, null, [Warn.ClaimDmaOwnerNull])),
            new(new ClaimDmaOwner("dev0", "o \"quoted\" \\ owner")),
            new(new ReleaseDmaOwner("dev0")),
            new(new ClaimGroupDmaOwner("dev1", "vfio")),
            new(new ReleaseGroupDmaOwner("dev1")),
            new(new Map("d1", 0x20_0000, 0x1_0000_0000, 0x1000, "rw")),
            new(new Unmap("d1", 0x20_0000, 0x1000), new Expect(Errno.OK, "0x1000")),
            new(new IovaToPhys("d1", 0x20_0010), new Expect(Errno.OK, "0x0")),
            new(new DeviceDma("dev0", 0x10, 4, true), new Expect(Errno.OK, "phys=0x10")),
            new(new DeviceDma("dev0", 0x10, 4, false, 5), new Expect(Errno.EIO, "fault=no_domain")),
            new(new MmNew("mm1")),
            new(new MmMap("mm1", 0x40_0000, 0x8000_0000, 0x2000, "rw")),
            new(new SvaBind("dev1", "mm1", "h1")),
            new(new SvaGetPasid("h1")),
            new(new SvaUnbind("h1")),
            new(new MmExit("mm1")),
            new(new AttachDevicePasid("d1", "dev0", 3)),
            new(new ReplaceDevicePasid("d1", "dev0", 3)),
            new(new DetachDevicePasid("d1", "dev0", 3)),
            new(new FailNth(2)),
            new(new DmaMap("dev0", 0x2000, 0x1000, DmaDirections.ToDevice, 1, "i1", 32), new Expect(Errno.OK, "0xfffff000")),
            new(new DmaUnmap("dev0", 0, "i1", 0x1000, DmaDirections.ToDevice, 1)),
            new(new DmaUnmap("dev0", 0x5000, null, 0x1000, DmaDirections.Bidirectional, 0), new Expect(Errno.OK, null, [Warn.DmaDebugBadUnmap])),
            new(new Tick(10)),
            new(new DomainFree("d1")),
        ]);

    public static Trace Small(params TraceStep[] steps) =>
        new("small", [], SystemConfig.Default, TwoDeviceGroup, [.. steps]);

    // ---- snapshots: dev0 and dev1 in group 1 on the DMA-FQ default domain #10; #11 the static blocked domain ----

    public static SystemSnapshot GoodSnapshot() => new(
        [
            new DeviceSnapshot("dev0", "smmu0", 1, false, new HwContext(HwContextKind.Translate, 10)),
            new DeviceSnapshot("dev1", "smmu0", 1, false, new HwContext(HwContextKind.Translate, 10)),
            new DeviceSnapshot("rd", "smmu0", null, false, HwContext.None),
            new DeviceSnapshot("bare", null, null, false, HwContext.None),
        ],
        [new GroupSnapshot(1, "smmu0", "g0", ["dev0", "dev1"], 10, 10, 11, null, 0, 2)],
        [
            new DomainSnapshot(10, "DMA-FQ", "smmuv3", "smmuv3", "smmu0", false, null),
            new DomainSnapshot(11, "blocked", "smmuv3", null, null, true, null),
        ],
        []);

    public static SystemSnapshot EmptySnapshot() => new([], [], [], []);

    public static GroupSnapshot Group(SystemSnapshot s) => s.Groups[0];

    public static SystemSnapshot WithGroup(this SystemSnapshot s, Func<GroupSnapshot, GroupSnapshot> change) =>
        s with { Groups = [change(s.Groups[0]), .. s.Groups.Skip(1)] };

    public static SystemSnapshot WithDevice(this SystemSnapshot s, string name, Func<DeviceSnapshot, DeviceSnapshot> change) =>
        s with { Devices = [.. s.Devices.Select(d => d.Name == name ? change(d) : d)] };
}

/// <summary>A "correct implementation" for executor tests: a second copy of the model, with a fixed snapshot.</summary>
internal sealed class ModelEcho(Trace trace, Func<SystemSnapshot>? snapshot = null) : WholeStateSystem
{
    private ModelState _model = ModelState.Initial(trace.Config, trace.Topology);
    private int _next;

    // A step whose expect shows an injected allocation failure, and a dma_map (whose IOVA the implementation chooses), is
    // judged with the expected outcome: the model follows the site it names, or adopts the IOVA.
    public override Outcome Execute(Operation op)
    {
        if (_next < trace.Steps.Length && trace.Steps[_next].Op.Equals(op))
        {
            var expect = trace.Steps[_next++].Expect;
            if (expect?.Warnings is { } w && (op is DmaMap || w.Any(x => x.StartsWith(Warn.FaultInjectionPrefix, StringComparison.Ordinal))))
            {
                var judged = _model.Judge(op, new Outcome(expect.Errno, expect.Value, w));
                _model = judged.Next;
                return judged.Expected;
            }
        }
        var step = _model.Step(op);
        _model = step.Next;
        return step.Outcome;
    }

    protected override SystemSnapshot Read() => (snapshot ?? Fixtures.EmptySnapshot)();
}

/// <summary>
/// Answers from a script and shows scripted snapshots: the first before any step, then one after each step that is
/// not a read (the last one repeated).
/// </summary>
internal sealed class Scripted(Func<Operation, Outcome> answer, params SystemSnapshot[] snapshots) : WholeStateSystem
{
    private int _steps;

    public override Outcome Execute(Operation op)
    {
        if (op is not (GetDomain or GroupTypeRead)) _steps++;
        return answer(op);
    }

    protected override SystemSnapshot Read() => snapshots[Math.Min(_steps, snapshots.Length - 1)];
}

/// <summary>A reference that answers from a script (its state follows the real model, for the checks that read it).</summary>
internal sealed class ScriptedModel(Trace trace, Func<Operation, Outcome> answer) : IIommuJudge
{
    public ModelState State { get; private set; } = ModelState.Initial(trace.Config, trace.Topology);

    public ModelState Before { get; private set; } = ModelState.Initial(trace.Config, trace.Topology);

    public Outcome Read(Operation read) => answer(read);

    public Judgement Judge(Operation op, Outcome observed)
    {
        Before = State;
        State = State.Step(op).Next;
        var expected = answer(op);
        return new Judgement(expected.Equals(observed), expected);
    }
}

internal static class Models
{
    public static ModelJudge For(Trace trace) => new(ModelState.Initial(trace.Config, trace.Topology));

    public static ImmutableArray<string> NoWarnings => [];

    /// <summary>Runs with fresh sides from the factories (the executor may run a case twice).</summary>
    public static RunReport Run(Trace trace, Func<IIommuJudge> model, Func<IIommuSystem> system, ExecutorChecks checks = ExecutorChecks.All) =>
        Executor.Run(trace, _ => (model(), system()), checks);
}
