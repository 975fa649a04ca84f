using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Harness.Checking;

/// <summary>A campaign's result: the property run and how often each operation met each outcome.</summary>
public sealed record CampaignResult(CheckResult Check, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Coverage);

/// <summary>
/// A conformance campaign: the default sequential property (model vs implementation, invariants after every
/// step) over many random traces, counting operation × outcome coverage of the steps the model answered.
/// </summary>
public static class Campaign
{
    public static CampaignResult Run(CheckSettings settings, TraceGenSettings generation)
    {
        var coverage = new SortedDictionary<string, SortedDictionary<string, int>>(StringComparer.Ordinal);
        // Coverage counts generated traces only; a failure's shrink candidates run in full mode with the shrink cache.
        var result = PropertyCheck.Run(TraceGen.Arbitrary(generation), settings, trace =>
        {
            var report = Executor.Run(trace);
            foreach (var step in report.Steps)
                Count(coverage, step.Op.Name, OutcomeKey(step));
            return report;
        }, (trace, knownGood) => Executor.RunFullAfter(trace, knownGood));
        return new CampaignResult(result, coverage.ToDictionary(
            p => p.Key, p => (IReadOnlyDictionary<string, int>)p.Value, StringComparer.Ordinal));
    }

    /// <summary>The errno, with "+warn" when the kernel warned: a WARN path is coverage in its own right.</summary>
    private static string OutcomeKey(StepReport step) =>
        step.ModelOutcome.Errno + (step.ModelOutcome.Warnings.IsEmpty ? "" : "+warn");

    private static void Count(SortedDictionary<string, SortedDictionary<string, int>> table, string op, string outcome)
    {
        if (!table.TryGetValue(op, out var row)) table[op] = row = new(StringComparer.Ordinal);
        row[outcome] = row.GetValueOrDefault(outcome) + 1;
    }
}
