using System.Globalization;
using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Iommu.Generation;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>campaign [--max-test N] [--seed SEED,GAMMA] [--bug NAME]... [--out DIR]</c>: the main job. Runs the default
/// conformance property over 10,000 traces (unless told otherwise), writes reports/campaign.md and, on failure, the shrunk trace to reports/failures/.
/// Exit 0 conformant, 1 diverged.
/// </summary>
public static class CampaignCommand
{
    public static readonly Command Command = new("campaign", "campaign [--max-test N] [--seed SEED,GAMMA] [--bug NAME]... [--out DIR]", "the main job: a conformance campaign; writes reports/campaign.md", Run);

    private static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        if (!CampaignOptions.TryParse(args, errors, out var options, CampaignOptions.DefaultCampaignTraces)) return ExitCodes.Usage;
        var settings = options.Settings;
        output.WriteLine($"campaign: {settings.MaxTest} traces, {CheckSettings.SeedVariable}={settings.Replay}"
            + (options.Bugs.IsEmpty ? "" : $", bugs: {string.Join(", ", options.Bugs)}"));
        var result = Campaign.Run(settings, TraceGenSettings.Default with { Bugs = options.Bugs });
        Directory.CreateDirectory(options.Out);
        var path = Path.Combine(options.Out, "campaign.md");
        File.WriteAllText(path, CampaignReport.ToMarkdown(result, settings));
        var check = result.Check;
        output.WriteLine($"{check.Tests} traces, {check.StepsChecked} steps in {check.Elapsed.TotalSeconds:F2} s "
            + $"({check.StepsPerSecond.ToString("F0", CultureInfo.InvariantCulture)} steps/s); report: {path}");
        if (check.Shrunk is not { } failure)
        {
            output.WriteLine("verdict: conformant");
            return ExitCodes.Conformant;
        }
        var saved = FailureFiles.Save(options.Out, $"campaign-{settings.Seed}", failure);
        output.WriteLine(FailureFiles.Describe(failure, saved, settings));
        return ExitCodes.Diverged;
    }
}
