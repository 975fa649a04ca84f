using System.Globalization;
using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Generation;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>campaign [--max-test N] [--seed SEED,GAMMA] [--bug NAME]... [--out DIR]</c>: the main job. Runs the default
/// conformance property, writes reports/campaign.md and, on failure, the shrunk trace to reports/failures/.
/// Exit 0 conformant, 1 diverged.
/// </summary>
public static class CampaignCommand
{
    public static int Run(string[] args)
    {
        var options = CampaignOptions.Parse(args);
        var settings = options.Settings;
        Console.WriteLine($"campaign: {settings.MaxTest} traces, {CheckSettings.SeedVariable}={settings.Replay}"
            + (options.Bugs.IsEmpty ? "" : $", bugs: {string.Join(", ", options.Bugs)}"));
        var result = Campaign.Run(settings, TraceGenSettings.Default with { Bugs = options.Bugs });
        Directory.CreateDirectory(options.Out);
        var path = Path.Combine(options.Out, "campaign.md");
        File.WriteAllText(path, CampaignReport.ToMarkdown(result, settings));
        var check = result.Check;
        Console.WriteLine($"{check.Tests} traces, {check.StepsChecked} steps in {check.Elapsed.TotalSeconds:F2} s "
            + $"({check.StepsPerSecond.ToString("F0", CultureInfo.InvariantCulture)} steps/s); report: {path}");
        if (check.Shrunk is not { } failure)
        {
            Console.WriteLine("verdict: conformant");
            return 0;
        }
        var saved = FailureFiles.Save(options.Out, $"campaign-{settings.Seed}", failure);
        Console.WriteLine(FailureFiles.Describe(failure, saved, settings));
        return 1;
    }
}
