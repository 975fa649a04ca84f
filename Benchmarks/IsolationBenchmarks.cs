using BenchmarkDotNet.Attributes;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;

namespace IommuConformance.Benchmarks;

/// <summary>
/// Per-step cost of the executor on memory-op traces (<see cref="TraceGenSettings.MemoryOps"/>) with and without the
/// isolation (G1) and page-table (G3/G4) checks: the default pipeline without them, with each alone, with both (the
/// default run, <see cref="ExecutorChecks.All"/>), and both in full mode. The batch keeps generated traces the
/// implementation can run (all four drivers) and that every check passes, so every run executes every step.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn, MaxColumn]
public class IsolationBenchmarks
{
    private const int Steps = 4_000;
    private const ExecutorChecks Without = ExecutorChecks.Outcomes | ExecutorChecks.Invariants | ExecutorChecks.Observations;

    private Trace[] _batch = [];

    [GlobalSetup]
    public void Setup()
    {
        var settings = TraceGenSettings.Default with { MemoryOps = true };
        var left = Steps;
        var batch = new List<Trace>();
        for (ulong seed = 0; left > 0 && seed < 10_000; seed++)
        {
            var trace = TraceGen.Build(settings, seed, 60);
            if (IommuSystem.CannotRun(trace.Config, trace.Topology) is not null) continue;
            trace = trace.WithSteps(trace.Steps.Take(left));
            if (!Executor.Run(trace).Conformant) continue;   // the memory layer's open disagreements stop a run early
            batch.Add(trace);
            left -= trace.Steps.Length;
        }
        if (left != 0) throw new InvalidOperationException($"the batch has {Steps - left} steps, fewer than {Steps}");
        _batch = [.. batch];
    }

    private int RunAll(ExecutorChecks checks)
    {
        var conformant = 0;
        foreach (var trace in _batch)
            if (Executor.Run(trace, checks).Conformant) conformant++;
        return conformant;
    }

    [Benchmark(OperationsPerInvoke = Steps, Baseline = true)]
    public int Without_isolation_and_page_tables() => RunAll(Without);

    [Benchmark(OperationsPerInvoke = Steps)]
    public int With_isolation() => RunAll(Without | ExecutorChecks.Isolation);

    [Benchmark(OperationsPerInvoke = Steps)]
    public int With_page_tables() => RunAll(Without | ExecutorChecks.PageTables);

    /// <summary>The default run: every check, incremental with sweeps.</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public int With_both() => RunAll(ExecutorChecks.All);

    /// <summary>Every check after every step (replay, shrinking): isolation and page tables sweep every step.</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public int With_both_full_mode()
    {
        var conformant = 0;
        foreach (var trace in _batch)
            if (Executor.RunFull(trace).Conformant) conformant++;
        return conformant;
    }
}
