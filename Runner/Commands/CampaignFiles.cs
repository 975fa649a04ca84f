using System.Globalization;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// What <c>campaign</c> and <c>merge</c> write and print for a result: its failures (trace and [Fact]) first, then
/// the JSON result and the Markdown report, each atomically; the summary lines; the exit code (1 on any failure).
/// </summary>
internal static class CampaignFiles
{
    public static int Write(CampaignRun run, string dir, RunnerIo io)
    {
        var saved = run.Failures.Select(f => (f, Path: FailureFiles.Save(dir, f.Name, f.Json,
            $"campaign {run.Replay} trace {f.TraceNumber.ToString(CultureInfo.InvariantCulture)} ({OutDirectory.FailuresFolder}/{f.Name}.json)"))).ToArray();
        var (reportFile, resultFile) = CampaignCommand.FileNames(run.Shard);
        OutDirectory.WriteAtomically(Path.Combine(dir, resultFile), run.Json);
        var report = Path.Combine(dir, reportFile);
        OutDirectory.WriteAtomically(report, run.Markdown);
        io.Output.WriteLine($"{run.Traces} traces, {run.Steps} steps in {run.Elapsed.TotalSeconds:F2} s "
            + $"({run.StepsPerSecond.ToString("F0", CultureInfo.InvariantCulture)} steps/s); report: {report}, result: {Path.Combine(dir, resultFile)}");
        if (!run.Failed)
        {
            io.Output.WriteLine("verdict: conformant");
            return ExitCodes.Conformant;
        }
        io.Output.WriteLine($"verdict: DIVERGED: {run.FailingTraces} failing trace(s); {saved.Length} shrunk and saved:");
        foreach (var (failure, path) in saved)
            io.Output.WriteLine($"  {path} ({failure.Steps} steps; [Fact]: {Path.ChangeExtension(path, null)}{RegressionFact.Extension})");
        if (saved.FirstOrDefault(s => s.f.Shrunk is not null) is { f.Shrunk: { } first } firstSaved)
            io.Output.WriteLine(first.Describe($"{SettingsCall.SeedVariable}={run.Replay} (rerun the campaign)", firstSaved.Path));
        return ExitCodes.Diverged;
    }
}
