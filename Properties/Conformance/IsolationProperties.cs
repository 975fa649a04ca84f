using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using IommuConformance.Properties.HarnessTests;
using IommuConformance.Properties.Support;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using Xunit.Abstractions;

namespace IommuConformance.Properties.Conformance;

/// <summary>
/// DMA isolation (G1) and the page-table structure (G3/G4) after every step of generated traces with the memory
/// operations on (<see cref="TraceGenSettings.MemoryOps"/>), on the correct implementation, across many seeds: the
/// checks pass, and they are not vacuous (they probed leaves, IOTLB entries and table pages on every driver).
/// </summary>
public sealed class IsolationProperties(ITestOutputHelper output)
{
    private static readonly TraceGenSettings Memory = TraceGenSettings.Default with { MemoryOps = true };

    /// <summary>Generated memory traces on machines of all four drivers that the implementation can run (era 6.1 is refused).</summary>
    public static IEnumerable<Trace> MemoryTraces(int count, int size = 60, ulong first = 0)
    {
        for (var seed = first; count > 0; seed++)
        {
            var trace = TraceGen.Build(Memory, seed, size);
            if (IommuSystem.CannotRun(trace.Config, trace.Topology) is not null) continue;
            count--;
            yield return trace;
        }
    }

    [Fact]
    public void Isolation_and_page_tables_hold_on_generated_memory_traces()
    {
        var drivers = new HashSet<string>(StringComparer.Ordinal);
        var memorySteps = 0;
        var built = new List<PerturbedSystem>();
        var sides = PerturbedSystem.Sides(-1, null, built);   // nothing perturbed: only counts what the checks read
        foreach (var trace in MemoryTraces(500))
        {
            var report = Executor.Run(trace, sides, ExecutorChecks.Isolation | ExecutorChecks.PageTables);
            Assert.True(report.Conformant, $"{report.Problem}\n{FailurePrinter.Print(report)}");
            memorySteps += trace.Steps.Count(s => s.Op is Map or Unmap or DeviceDma);
            if (trace.Steps.Any(s => s.Op is Map)) drivers.UnionWith(trace.Topology.Iommus.Select(i => i.Driver));
        }
        var (probes, iotlb, pages) = (built.Sum(b => b.Probes), built.Sum(b => b.IotlbAnswers), built.Sum(b => b.TablePagesSeen));
        output.WriteLine($"{memorySteps} memory steps; {probes} probes, {iotlb} IOTLB answers, {pages} table pages read; drivers with maps: {string.Join(", ", drivers.Order())}");
        Assert.True(memorySteps > 2000, $"only {memorySteps} memory steps");
        Assert.True(probes > 100_000 && iotlb > 1000 && pages > 10_000, $"{probes} probes, {iotlb} IOTLB answers, {pages} table pages");
        Assert.Equal(IommuSystem.Drivers.Order(), drivers.Order());
    }

    /// <summary>
    /// A property built from the pipeline's checks: isolation and page tables alone (outcomes and invariants have the
    /// memory layer's open disagreements, docs/operations.md), with shrinking, over generated memory traces; a trace the
    /// implementation cannot run (virtio) is skipped.
    /// </summary>
    [ConformanceProperty(MaxTest = 200)]
    public Property Isolation_holds_after_every_step_with_the_memory_operations() =>
        Prop.ForAll(TraceGen.Arbitrary(Memory), (Trace trace) =>
        {
            if (IommuSystem.CannotRun(trace.Config, trace.Topology) is null)
                ConformanceFailure.ThrowIfFailed(Executor.Run(trace, ExecutorChecks.Isolation | ExecutorChecks.PageTables));
        });
}
