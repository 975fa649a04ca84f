using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>What a campaign found: counts and speed, the Markdown report, and the shrunk failure if any.</summary>
internal sealed record CampaignOutcome(
    int Tests, long StepsChecked, TimeSpan Elapsed, double StepsPerSecond, string ReportMarkdown, ShrunkFailure? Failure);

internal static class CampaignCall
{
    public static CampaignOutcome Run(CheckSettings settings, IReadOnlyList<string> bugs)
    {
        var result = Campaign.Run(settings, TraceGenSettings.Default with { Bugs = [.. bugs] });
        var check = result.Check;
        return new CampaignOutcome(check.Tests, check.StepsChecked, check.Elapsed, check.StepsPerSecond,
            CampaignReport.ToMarkdown(result, settings), check.Shrunk is { } failure ? new ShrunkFailure(failure) : null);
    }
}
