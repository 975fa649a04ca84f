using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Benchmarks;

/// <summary>Which traces a benchmark runs: the core slice's (no IOMMU API, no hardware checks at work) or the default run's.</summary>
public enum Slice
{
    /// <summary>The operations of the core (probe … ownership, sysfs): the batch issue #5's targets are set on.</summary>
    Core,

    /// <summary>The default run: the memory operations too, on all four drivers, with the isolation and page-table checks.</summary>
    Default,
}

/// <summary>One fixed batch of generated traces cut to exactly <see cref="Steps"/> steps (so OperationsPerInvoke is exact).</summary>
public static class StepBatch
{
    public const int Steps = 4_000;
    private const int Traces = 200;
    private const ulong Seed = 20261122UL;
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;

    public static TraceGenSettings Settings(Slice slice) => TraceGenSettings.Default with { MemoryOps = slice == Slice.Default };

    /// <summary>The traces drawn before the cut: what the generator makes for one batch.</summary>
    public static Trace[] Drawn(Slice slice) => Gen.Sample(TraceGen.Trace(Settings(slice)), 100, new Rnd(Seed, Gamma), Traces);

    public static Trace[] Of(Slice slice)
    {
        var all = Drawn(slice);
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
        return [.. batch];
    }
}
