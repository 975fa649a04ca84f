using BenchmarkDotNet.Attributes;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Benchmarks;

/// <summary>
/// Cost per trace step of the parts of a conformance run, on one fixed batch of generated traces of each slice:
/// the model alone, the implementation alone, both with the outcome comparison, the executor (both, compared,
/// invariants and observations after every step), (generation: GenerationBenchmarks).
/// Results are per step (OperationsPerInvoke = steps in the batch).
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn, MaxColumn]
public class StepBenchmarks
{
    private const int Steps = StepBatch.Steps;

    private Trace[] _batch = [];

    /// <summary>Core: the batch issue #5's targets are set on; Default: the default run's (memory operations, hardware checks).</summary>
    [Params(Slice.Core, Slice.Default)]
    public Slice Slice { get; set; }

    [GlobalSetup]
    public void Setup() => _batch = StepBatch.Of(Slice);

    [Benchmark(OperationsPerInvoke = Steps)]
    public int Model()
    {
        var answered = 0;
        foreach (var trace in _batch) answered += InstructionCount.Model(trace);
        return answered;
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public int Implementation()
    {
        var answered = 0;
        foreach (var trace in _batch) answered += InstructionCount.Implementation(trace);
        return answered;
    }

    /// <summary>Both sides and Outcome.Equals per step: no snapshot, no invariants, no observations.</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public int Both_with_outcome_compare()
    {
        var agreed = 0;
        foreach (var trace in _batch)
        {
            var state = ModelState.Initial(trace.Config, trace.Topology);
            var system = IommuSystem.Create(trace.Config, trace.Topology, trace.Bugs);
            foreach (var step in trace.Steps)
            {
                var result = state.Step(step.Op);
                state = result.Next;
                if (result.Outcome.Equals(system.Execute(step.Op))) agreed++;
            }
        }
        return agreed;
    }

    /// <summary>Executor.Run(trace): all checks, incremental with sweeps (the default run).</summary>
    [Benchmark(OperationsPerInvoke = Steps, Baseline = true)]
    public int Executor_all_checks()
    {
        var conformant = 0;
        foreach (var trace in _batch)
            if (Executor.Run(trace).Conformant) conformant++;
        return conformant;
    }

    /// <summary>Executor.Run with issue #5's pipeline alone (expect, c.22, outcome, state, observations): no isolation or page-table checks.</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public int Executor_issue5_pipeline()
    {
        var conformant = 0;
        foreach (var trace in _batch)
            if (Executor.Run(trace, InstructionCount.IssueFivePipeline).Conformant) conformant++;
        return conformant;
    }

    /// <summary>Executor.RunFull(trace): every check after every step (replay and shrinking).</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public int Executor_full_checks()
    {
        var conformant = 0;
        foreach (var trace in _batch)
            if (Executor.RunFull(trace).Conformant) conformant++;
        return conformant;
    }
}
