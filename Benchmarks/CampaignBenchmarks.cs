using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Generation;

namespace IommuConformance.Benchmarks;

/// <summary>
/// An in-process campaign, warm: Campaign.Run(new CheckSettings(MaxTest: 1000), TraceGenSettings.Default)
/// (generation, executor with all checks, coverage counting; no shrinking, since it is conformant). One
/// campaign runs in GlobalSetup as warm-up; the benchmark measures one 1000-trace campaign. The campaign's
/// step count is fixed by its seed (checked in GlobalSetup); the "Steps/s" column is Steps / Mean.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn, MaxColumn]
[Config(typeof(Columns))]
public class CampaignBenchmarks
{
    /// <summary>CheckResult.StepsChecked of the 1000-trace campaign with the default seed (fixed by the seed; computed
    /// once per process, so the host's columns and the benchmark process agree).</summary>
    public static long Steps => LazySteps.Value;

    private static readonly Lazy<long> LazySteps =
        new(() => Campaign.Run(new CheckSettings(MaxTest: 1000), TraceGenSettings.Default).Check.StepsChecked);

    [GlobalSetup]
    public void Setup()
    {
        var warm = Campaign.Run(new CheckSettings(MaxTest: 1000), TraceGenSettings.Default);
        if (warm.Check.Failed || warm.Check.StepsChecked != Steps)
            throw new InvalidOperationException($"the campaign checked {warm.Check.StepsChecked} steps (failed: {warm.Check.Failed}), not {Steps}");
        Console.WriteLine($"// warm-up campaign: {warm.Check.Tests} traces, {warm.Check.StepsChecked} steps, {warm.Check.StepsPerSecond:F0} steps/s");
    }

    [Benchmark]
    public long Campaign_warm()
    {
        var result = Campaign.Run(new CheckSettings(MaxTest: 1000), TraceGenSettings.Default);
        return result.Check.StepsChecked;
    }

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
        public string Legend => "CheckResult.StepsChecked of one 1000-trace campaign";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => Steps.ToString("N0", CultureInfo.InvariantCulture);
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
                ? (Steps / (stats.Mean / 1e9)).ToString("N0", CultureInfo.InvariantCulture)
                : "NA";
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    }
}
