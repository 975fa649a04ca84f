using System.CommandLine;
using System.Globalization;
using IommuConformance.Runner.HarnessCalls;
using IommuConformance.Runner.Progress;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>campaign [--max-test N] [--duration D] [--seed SEED[,GAMMA]] [--shard I/N] [--bug NAME]... [--out DIR]</c>: the
/// main job. Runs generated traces (10,000 unless told otherwise; or until the time box) each from its own seed,
/// shows progress, shrinks the first failures into DIR/failures/ (trace and [Fact]), and writes DIR/campaign.md and
/// the machine-readable DIR/campaign.json (a shard: campaign-IofN.*, for <c>merge</c>). Exit 0 conformant, 1 any failure.
/// </summary>
internal static class CampaignCommand
{
    /// <summary>A campaign's default length: ten times a property run (a few seconds on two cores).</summary>
    public const int DefaultTraces = 10_000;

    public const string ReportFile = "campaign.md";

    public const string ResultFile = "campaign.json";

    public static Command Create(RunnerIo io)
    {
        var options = new RunOptions(DefaultTraces);
        var campaign = new CampaignOptions();
        var command = new Command("campaign",
            $"the main job: a conformance campaign; writes DIR/{ReportFile} and DIR/{ResultFile} (exit 0 conformant, 1 any failure)");
        options.AddTo(command);
        campaign.AddTo(command);
        command.SetAction(parse =>
        {
            // --shard 1/1 is the whole campaign, and is written as such.
            var shard = parse.GetValue(campaign.Shard) is { } text && CampaignCall.TryParseShard(text, out var s, out _) && s.Count > 1
                ? $"{s.Index}/{s.Count}" : null;
            var (report, result) = FileNames(shard);
            if (options.Resolve(parse, io, [report, result], out var code) is not { } request) return code;
            var countGiven = parse.GetValue(options.MaxTest) is not null || io.Environment(SettingsCall.MaxTestVariable) is { Length: > 0 };
            return Run(new CampaignRequest(request.Settings, countGiven, parse.GetValue(campaign.Duration), shard, request.Bugs), request.Out, io);
        });
        return command;
    }

    /// <summary>The report and result file names: campaign.md and campaign.json, or campaign-IofN.md and .json for a shard.</summary>
    public static (string Report, string Result) FileNames(string? shard)
    {
        var stem = shard is null ? "campaign" : $"campaign-{shard.Replace("/", "of", StringComparison.Ordinal)}";
        return ($"{stem}.md", $"{stem}.json");
    }

    private static int Run(CampaignRequest request, string dir, RunnerIo io)
    {
        var settings = request.Settings;
        var box = request.Duration is null || request.CountGiven ? $"{settings.MaxTest} traces" : "";
        if (request.Duration is { } d) box += (box.Length > 0 ? " or " : "") + $"{d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";
        io.Output.WriteLine($"campaign: {box}, {SettingsCall.SeedVariable}={settings.Replay}"
            + (request.Shard is { } s ? $", shard {s}" : "")
            + (request.Bugs.Count == 0 ? "" : $", bugs: {string.Join(", ", request.Bugs)}"));
        var run = ProgressDisplay.Run(io.Output, "campaign", report => CampaignCall.Run(request, tick =>
            report(new ProgressInfo("traces", tick.Traces, tick.Expected, tick.Traces, tick.Steps, tick.Failures, tick.Elapsed, tick.Box))));
        return CampaignFiles.Write(run, dir, io);
    }
}
