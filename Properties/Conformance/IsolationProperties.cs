using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
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

    /// <summary>Generated memory traces the implementation can run (virtio machines are refused: no virtio driver yet).</summary>
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
        foreach (var trace in MemoryTraces(300))
        {
            var report = Executor.Run(trace, ExecutorChecks.Isolation | ExecutorChecks.PageTables);
            Assert.True(report.Conformant, $"{report.Problem}\n{FailurePrinter.Print(report)}");
            memorySteps += trace.Steps.Count(s => s.Op is Map or Unmap or DeviceDma);
            if (trace.Steps.Any(s => s.Op is Map)) drivers.UnionWith(trace.Topology.Iommus.Select(i => i.Driver));
        }
        output.WriteLine($"{memorySteps} memory steps; drivers with maps: {string.Join(", ", drivers.Order())}");
        Assert.True(memorySteps > 2000, $"only {memorySteps} memory steps");
        Assert.Equal(IommuSystem.Drivers.Order(), drivers.Order());
    }
}
