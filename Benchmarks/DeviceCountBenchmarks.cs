using BenchmarkDotNet.Attributes;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Benchmarks;

/// <summary>
/// How the cost per step grows with the size of the topology: one hand-built 60-step trace
/// (<see cref="DeviceTraces"/>) over one smmuv3 instance and N platform devices, each in its own group.
/// Per step (OperationsPerInvoke = 60). Every step of the trace answers OK at every N.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn, MaxColumn]
public class DeviceCountBenchmarks
{
    [Params(1, 8, 32)]
    public int Devices { get; set; }

    private Trace _trace = null!;

    [GlobalSetup]
    public void Setup()
    {
        _trace = DeviceTraces.Trace(Devices);
        var report = Executor.Run(_trace);
        if (!report.Conformant || report.Steps.Length != DeviceTraces.Steps)
            throw new InvalidOperationException($"the {Devices}-device trace is not conformant: {report.Problem}");
    }

    [Benchmark(OperationsPerInvoke = DeviceTraces.Steps, Baseline = true)]
    public bool Executor_by_devices() => Executor.Run(_trace).Conformant;

    /// <summary>The two sides alone (model Step + implementation Execute, no comparison, no checks).</summary>
    [Benchmark(OperationsPerInvoke = DeviceTraces.Steps)]
    public int Model_and_implementation_by_devices()
    {
        var answered = 0;
        var state = ModelState.Initial(_trace.Config, _trace.Topology);
        var system = IommuSystem.Create(_trace.Config, _trace.Topology, _trace.Bugs);
        foreach (var step in _trace.Steps)
        {
            var result = state.Step(step.Op);
            state = result.Next;
            answered += (int)result.Outcome.Errno + (int)system.Execute(step.Op).Errno;
        }
        return answered;
    }
}
