using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.PageTable;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.Scenarios;

/// <summary>What a lockstep run leaves for the scenario's own assertions.</summary>
public sealed record LockstepResult(IommuSystem System, ModelState Model, long[] LiveFramesAfter, int ProbesChecked)
{
    /// <summary>G3: table pages after the last step (d1 freed) equal those before d1 was allocated.</summary>
    public void AssertTablePagesAtBaseline() =>
        Assert.Equal(LiveFramesAfter[ScenarioTrace.BaselineStep], LiveFramesAfter[^1]);
}

/// <summary>
/// The two ways a scenario runs. <see cref="ThroughExecutor"/>: the harness executor in full mode (every check after
/// every step, the model judging each outcome and each expect). <see cref="Lockstep"/>: model and implementation
/// step by step, each outcome equal and admitted by its expect, then the global checks of hardware-and-peers.md §6:
/// G1 isolation at the addresses the step named (every translation the hardware could produce, by a fresh walk or a
/// live cache entry, reaches what the model says dev0's domain maps, or faults where the model faults), no
/// hardware error (no entry or cache pointing into a freed domain or table page), and at the end a G1 sweep of every
/// address the trace named. G3 and G4 are asserted by the scenario on the result.
/// </summary>
public static class ScenarioRun
{
    public static void ThroughExecutor(Trace trace, bool full = true)
    {
        var report = full ? Executor.RunFull(trace) : Executor.Run(trace);
        Assert.True(report.Conformant, FailurePrinter.Print(report));
        Assert.Equal(trace.Steps.Length, report.Steps.Length);
    }

    public static LockstepResult Lockstep(ScenarioTrace scenario, Action<int, IommuSystem, ModelState>? afterStep = null, params string[] bugs) =>
        Lockstep(scenario.ToTrace(bugs), afterStep);

    public static LockstepResult Lockstep(Trace trace, Action<int, IommuSystem, ModelState>? afterStep = null)
    {
        var model = ModelState.Initial(trace.Config, trace.Topology);
        var system = IommuSystem.Create(trace.Config, trace.Topology, trace.Bugs);
        var devices = trace.Topology.Devices.Where(d => d.Iommu is not null).Select(d => d.Name).ToArray();
        var frames = new List<long>();
        var all = new SortedSet<ulong>();
        var probes = 0;
        for (var i = 0; i < trace.Steps.Length; i++)
        {
            var (op, expect) = (trace.Steps[i].Op, trace.Steps[i].Expect);
            var step = model.Step(op);
            var observed = system.Execute(op);
            Assert.True(step.Outcome.Equals(observed), $"step {i} {op}: model {step.Outcome}, implementation {observed}");
            Assert.True(expect?.Admits(observed) ?? true, $"step {i} {op}: expected {expect}, got {observed}");
            model = step.Next;
            Assert.True(system.HardwareErrors.Count == 0, $"step {i} {op}: {string.Join("; ", system.HardwareErrors)}");
            foreach (var iova in AddressesOf(op))
            {
                all.Add(iova);
                probes += CheckIsolation(model, system, devices, iova, $"after step {i} {op}");
            }
            frames.Add(system.LiveFrames);
            afterStep?.Invoke(i, system, model);
        }
        foreach (var iova in all) probes += CheckIsolation(model, system, devices, iova, "in the closing sweep");
        return new LockstepResult(system, model, [.. frames], probes);
    }

    /// <summary>G1 at one address for every device, read and write: returns the number of (device, access) pairs checked.</summary>
    public static int CheckIsolation(ModelState model, IommuSystem system, IReadOnlyList<string> devices, ulong iova, string when)
    {
        var n = 0;
        foreach (var dev in devices)
            foreach (var write in new[] { false, true })
            {
                var expected = model.Step(new DeviceDma(dev, iova, 1, write)).Outcome;
                foreach (var p in system.PossibleTranslations(dev, iova, write))
                {
                    var got = p.Translation.IsOk ? DmaValues.Phys(p.Translation.Phys) : null;
                    var want = expected.Errno == Errno.OK ? expected.Value : null;
                    Assert.True(got == want,
                        $"G1 {when}: {dev} {(write ? "write" : "read")} at 0x{iova:x} via {p.Source} reaches {p.Translation}, the model says {expected}");
                }
                n++;
            }
        return n;
    }

    /// <summary>The addresses a step names: first and last byte and the byte past the end of a map, unmap or DMA.</summary>
    private static IEnumerable<ulong> AddressesOf(Operation op)
    {
        var (iova, size) = op switch
        {
            Map m => (m.Iova, m.Size),
            Unmap u => (u.Iova, u.Size),
            DeviceDma d => (d.Iova, d.Size),
            IovaToPhys p => (p.Iova, 1UL),
            _ => (0UL, 0UL),
        };
        if (size == 0) yield break;
        yield return iova;
        if (iova + size - 1 >= iova) yield return iova + size - 1;
        if (iova + size > iova) yield return iova + size;
    }

    /// <summary>d1 of a lockstep run, the paging domain the scenario maps into.</summary>
    public static PagingDomain DomainOf(IommuSystem system) => Assert.IsAssignableFrom<PagingDomain>(system.DomainOfHandle(ScenarioTrace.Domain));

    /// <summary>G4: the leaves of [start, end) by walking the table, as (iova, size).</summary>
    public static List<(ulong Iova, ulong Size)> Leaves(IIoPgtableOps table, ulong start, ulong end)
    {
        var leaves = new List<(ulong, ulong)>();
        var min = IommuPgsize.MinPagesize(table.PgsizeBitmap);
        for (var iova = start; iova < end;)
        {
            var w = table.Walk(iova);
            if (!w.IsOk) { iova += min; continue; }
            leaves.Add((w.LeafIova, w.LeafSize));
            iova = w.LeafIova + w.LeafSize;
        }
        return leaves;
    }
}

/// <summary>G4 against the model: the leaves the implementation's table holds are the leaves the model's runs predict.</summary>
public static class LeafChecks
{
    public static List<(ulong Iova, ulong Size)> ModelLeaves(ModelState model, ulong start, ulong end) =>
        [.. model.MappingsOf(ScenarioTrace.Domain).Runs
            .SelectMany(r => Enumerable.Range(0, (int)(r.Size / r.Leaf)).Select(k => (r.Iova + (ulong)k * r.Leaf, r.Leaf)))
            .Where(l => l.Item1 >= start && l.Item1 < end)];

    public static List<(ulong Iova, ulong Size)> AssertLeavesAsModel(IommuSystem system, ModelState model, ulong start, ulong end)
    {
        var leaves = ScenarioRun.Leaves(ScenarioRun.DomainOf(system).Pgtable, start, end);
        Assert.Equal(ModelLeaves(model, start, end), leaves);
        return leaves;
    }
}
