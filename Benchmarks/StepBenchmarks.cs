using BenchmarkDotNet.Attributes;
using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Benchmarks;

/// <summary>
/// Cost per trace step of the three parts of a conformance run, on one fixed batch of generated traces:
/// the model alone, the implementation alone, and the executor (both, compared, invariants after every step).
/// Results are per step (OperationsPerInvoke = steps in the batch).
/// </summary>
[MemoryDiagnoser]
public class StepBenchmarks
{
    private const int Traces = 200;
    private const int Steps = 4_000; // at most; the batch is cut to this many steps so OperationsPerInvoke is exact
    private Trace[] _batch = [];

    [GlobalSetup]
    public void Setup()
    {
        var all = Gen.Sample(TraceGen.Trace(TraceGenSettings.Default), 100, new Rnd(20261122UL, 0x9E3779B97F4A7C15UL), Traces);
        var left = Steps;
        var batch = new List<Trace>();
        foreach (var trace in all)
        {
            if (left == 0) break;
            var take = Math.Min(left, trace.Steps.Length);
            batch.Add(trace.WithSteps(trace.Steps.Take(take)));
            left -= take;
        }
        if (left != 0) throw new InvalidOperationException($"the batch has {Steps - left} steps, fewer than {Steps}");
        _batch = [.. batch];
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public int Model()
    {
        var answered = 0;
        foreach (var trace in _batch)
        {
            var state = ModelState.Initial(trace.Config, trace.Topology);
            foreach (var step in trace.Steps)
            {
                var result = state.Step(step.Op);
                state = result.Next;
                answered += (int)result.Outcome.Errno;
            }
        }
        return answered;
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public int Implementation()
    {
        var answered = 0;
        foreach (var trace in _batch)
        {
            var system = IommuSystem.Create(trace.Config, trace.Topology, trace.Bugs);
            foreach (var step in trace.Steps)
                answered += (int)system.Execute(step.Op).Errno;
        }
        return answered;
    }

    [Benchmark(OperationsPerInvoke = Steps, Baseline = true)]
    public int Executor_with_invariants()
    {
        var conformant = 0;
        foreach (var trace in _batch)
            if (Executor.Run(trace).Conformant) conformant++;
        return conformant;
    }
}
