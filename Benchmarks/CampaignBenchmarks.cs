using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using IommuConformance.Harness.Checking;

namespace IommuConformance.Benchmarks;

/// <summary>
/// An in-process campaign, warm: Campaign.Run(CampaignPlan.Of(1000)) of each slice
/// (generation, executor with all checks, coverage counting; no shrinking, since it is conformant). One
/// campaign runs in GlobalSetup as warm-up; the benchmark measures one 1000-trace campaign. The campaign's
/// step count is fixed by its seed (checked in GlobalSetup); the "Steps/s" column is Steps / Mean.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn, MaxColumn]
[Config(typeof(Columns))]
public class CampaignBenchmarks
{
    /// <summary>Core: the core slice's traces (issue #5's target); Default: the default run's (memory operations, hardware checks).</summary>
    [Params(Slice.Core, Slice.Default)]
    public Slice Slice { get; set; }

    /// <summary>CampaignResult.Steps of the 1000-trace campaign of a slice with the default seed (fixed by the seed;
    /// computed once per process, so the host's columns and the benchmark process agree).</summary>
    public static long StepsOf(Slice slice) => LazySteps[(int)slice].Value;

    private static readonly Lazy<long>[] LazySteps =
        [new(() => Campaign.Run(Plan(Slice.Core)).Steps), new(() => Campaign.Run(Plan(Slice.Default)).Steps)];

    private static CampaignPlan Plan(Slice slice) => CampaignPlan.Of(1000) with { MemoryOps = slice == Slice.Default };

    [GlobalSetup]
    public void Setup()
    {
        var warm = Campaign.Run(Plan(Slice));
        if (warm.Failed || warm.Steps != StepsOf(Slice))
            throw new InvalidOperationException($"the campaign checked {warm.Steps} steps (failed: {warm.Failed}), not {StepsOf(Slice)}");
        Console.WriteLine($"// warm-up campaign ({Slice}): {warm.Traces} traces, {warm.Steps} steps, {warm.StepsPerSecond:F0} steps/s");
    }

    [Benchmark]
    public long Campaign_warm()
    {
        var result = Campaign.Run(Plan(Slice));
        return result.Steps;
    }

    private static Slice SliceOf(BenchmarkCase benchmarkCase) => (Slice)benchmarkCase.Parameters[nameof(Slice)];

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(new StepsPerSecondColumn(), new StepsColumn());
    }

    private sealed class StepsColumn : IColumn
    {
        public string Id => nameof(StepsColumn);
        public string ColumnName => "Steps";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "CampaignResult.Steps of one 1000-trace campaign";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => StepsOf(SliceOf(benchmarkCase)).ToString("N0", CultureInfo.InvariantCulture);
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    }

    private sealed class StepsPerSecondColumn : IColumn
    {
        public string Id => nameof(StepsPerSecondColumn);
        public string ColumnName => "Steps/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 1;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Steps / Mean";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            summary[benchmarkCase]?.ResultStatistics is { } stats
                ? (StepsOf(SliceOf(benchmarkCase)) / (stats.Mean / 1e9)).ToString("N0", CultureInfo.InvariantCulture)
                : "NA";
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    }
}
