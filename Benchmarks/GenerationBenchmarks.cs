using BenchmarkDotNet.Attributes;
using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Benchmarks;

/// <summary>
/// Cost per generated step of the trace generator, through FsCheck exactly as a property run draws traces
/// (<see cref="TraceGen.Trace"/> sampled at a size), including the model step the generator takes to know the
/// state. The batch is a fixed set of (seed, size) pairs, sizes spread over 1–100 as in the default run, chosen so
/// that the traces hold exactly <see cref="Steps"/> steps (OperationsPerInvoke = steps).
/// </summary>
[MemoryDiagnoser]
public class GenerationBenchmarks
{
    private const int Steps = 20_000;
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private (ulong Seed, int Size)[] _batch = [];
    private Gen<Trace> _gen = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gen = TraceGen.Trace(TraceGenSettings.Default);
        var batch = new List<(ulong, int)>();
        var total = 0;
        for (var i = 0UL; total < Steps && i < 1_000_000; i++)
        {
            var size = 1 + (int)(i % 100);
            var length = Draw(20261122UL + i, size).Steps.Length;
            if (total + length > Steps) continue;
            batch.Add((20261122UL + i, size));
            total += length;
        }
        if (total != Steps) throw new InvalidOperationException($"the batch has {total} steps, not {Steps}");
        _batch = [.. batch];
    }

    private Trace Draw(ulong seed, int size) => Gen.Sample(_gen, 1, new Rnd(seed, Gamma), size)[0];

    [Benchmark(OperationsPerInvoke = Steps)]
    public int Generation()
    {
        var steps = 0;
        foreach (var (seed, size) in _batch)
            steps += Draw(seed, size).Steps.Length;
        return steps;
    }
}
