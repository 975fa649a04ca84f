using System.CommandLine;
using System.Globalization;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>campaign [--max-test N] [--seed SEED[,GAMMA]] [--bug NAME]... [--out DIR]</c>: the main job. Runs the default
/// conformance property over 10,000 traces (unless told otherwise), writes DIR/campaign.md and, on failure, the
/// shrunk trace to DIR/failures/. Exit 0 conformant, 1 diverged.
/// </summary>
internal static class CampaignCommand
{
    /// <summary>A campaign's default length: ten times a property run (a few seconds on two cores).</summary>
    public const int DefaultTraces = 10_000;

    public const string ReportFile = "campaign.md";

    public static Command Create(RunnerIo io)
    {
        var options = new RunOptions(DefaultTraces);
        var command = new Command("campaign", $"the main job: a conformance campaign; writes DIR/{ReportFile} (exit 0 conformant, 1 diverged)");
        options.AddTo(command);
        command.SetAction(parse => options.Resolve(parse, io, [ReportFile], out var code) is { } request ? Run(request, io) : code);
        return command;
    }

    private static int Run(RunRequest request, RunnerIo io)
    {
        var (settings, bugs, dir) = request;
        io.Output.WriteLine($"campaign: {settings.MaxTest} traces, {SettingsCall.SeedVariable}={settings.Replay}"
            + (bugs.Count == 0 ? "" : $", bugs: {string.Join(", ", bugs)}"));
        var outcome = CampaignCall.Run(settings, bugs);
        var path = Path.Combine(dir, ReportFile);
        OutDirectory.WriteAtomically(path, outcome.ReportMarkdown);
        io.Output.WriteLine($"{outcome.Tests} traces, {outcome.StepsChecked} steps in {outcome.Elapsed.TotalSeconds:F2} s "
            + $"({outcome.StepsPerSecond.ToString("F0", CultureInfo.InvariantCulture)} steps/s); report: {path}");
        if (outcome.Failure is not { } failure)
        {
            io.Output.WriteLine("verdict: conformant");
            return ExitCodes.Conformant;
        }
        var saved = FailureFiles.Save(dir, $"campaign-{settings.Seed}", failure);
        io.Output.WriteLine(failure.Describe($"{SettingsCall.SeedVariable}={settings.Replay} (rerun the campaign)", saved));
        return ExitCodes.Diverged;
    }
}
