using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using IommuConformance.Runner.HarnessCalls;
using IommuConformance.Runner.Progress;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>hunt [--max-test N] [--seed SEED[,GAMMA]] [--bug NAME]... [--out DIR]</c>: switch each seeded bug on in turn
/// (or only those named) and run the default property; report whether it was found, after how many traces, and how
/// short the first failing and the shrunk trace are against the documented minimum, and how long shrinking took (from the
/// first failure to the end). Writes DIR/hunt.md and DIR/hunt.json (for the conformance report), each bug's shrunk
/// trace and [Fact] to DIR/failures/. Exit 0 when every bug was found and shrunk to its documented length, 1 otherwise.
/// </summary>
internal static class HuntCommand
{
    public const string ReportFile = "hunt.md";

    public static Command Create(RunnerIo io)
    {
        var options = new RunOptions(SettingsCall.DefaultMaxTest, SeededBugs.HuntNames);
        var command = new Command("hunt", $"switch on each seeded bug in turn; writes DIR/{ReportFile} (exit 0 all found and shrunk, 1 not)");
        options.AddTo(command);
        command.SetAction(parse => options.Resolve(parse, io, [ReportFile, HuntJson.File], out var code) is { } request ? Run(request, io) : code);
        return command;
    }

    private static int Run(RunRequest request, RunnerIo io)
    {
        var (settings, names, dir) = request;
        var bugs = SeededBugs.All.Where(b => names.Count == 0 || names.Contains(b.Name)).ToArray();
        var table = new StringBuilder()
            .AppendLine("# Seeded-bug hunt").AppendLine()
            .AppendLine($"Default property run, `{SettingsCall.SeedVariable}={settings.Replay}`, at most {settings.MaxTest} traces per bug.").AppendLine();
        if (bugs.Length > 0)
            table.AppendLine("| bug | found | traces | failing steps | shrinks | shrunk steps | documented | time (s) | shrink time (ms) |")
                .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        var rows = new List<HuntRow>();
        var lines = new List<string>();
        var clock = Stopwatch.StartNew();
        ProgressDisplay.Run(io.Output, "hunt", report =>
        {
            long traces = 0, steps = 0, found = 0;
            foreach (var bug in bugs)
            {
                var result = HuntCall.Hunt(bug.Name, settings);
                traces += result.Tests;
                steps += result.Steps;
                found += result.Found ? 1 : 0;
                var steps1 = result.Failure?.Steps;
                rows.Add(new HuntRow(bug.Name, result.Found, result.Tests, result.FirstFailureSteps, steps1, bug.MinimalSteps,
                    result.Elapsed.TotalSeconds, result.ShrinkElapsed.TotalMilliseconds));
                var row = $"| `{bug.Name}` | {(result.Found ? "yes" : "**no**")} | {result.Tests} | "
                    + $"{result.FirstFailureSteps?.ToString(CultureInfo.InvariantCulture) ?? "-"} | {result.Shrinks} | "
                    + $"{steps1?.ToString(CultureInfo.InvariantCulture) ?? "-"} | {bug.MinimalSteps} | {result.Elapsed.TotalSeconds:F2} | "
                    + $"{result.ShrinkElapsed.TotalMilliseconds:F1} |";
                table.AppendLine(row);
                lines.Add(row);
                if (result.Failure is { } failure)
                    FailureFiles.Save(dir, $"bug-{bug.Name}", failure, $"seeded bug {bug.Name} (hunt {SettingsCall.SeedVariable}={settings.Replay})");
                report(new ProgressInfo("bugs", rows.Count, bugs.Length, traces, steps, found, clock.Elapsed, null));
            }
            return 0;
        });
        var queueBugs = SeededBugs.HardwareQueue.Where(b => names.Count == 0 || names.Contains(b.Name)).ToArray();
        if (queueBugs.Length > 0)
            table.AppendLine().AppendLine("Bugs of the emulated hardware's command queue, hunted by the command-stream property "
                + "(Harness/Iommu/HardwareQueues): streams instead of traces, actions instead of steps.").AppendLine()
                .AppendLine("| bug | found | streams | shrinks | shrunk actions | documented | time (s) |")
                .AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var bug in queueBugs)
        {
            var (result, shrunk) = HuntCall.HuntQueue(bug.Name, settings);
            var length = shrunk?.Actions.Length;
            rows.Add(new HuntRow(bug.Name, result.Found, result.Tests, null, length, bug.MinimalSteps, result.Elapsed.TotalSeconds, 0));
            var row = $"| `{bug.Name}` | {(result.Found ? "yes" : "**no**")} | {result.Tests} | {result.Shrinks} | "
                + $"{length?.ToString(CultureInfo.InvariantCulture) ?? "-"} | {bug.MinimalSteps} | {result.Elapsed.TotalSeconds:F2} |";
            table.AppendLine(row);
            lines.Add(row);
            if (shrunk is not null) table.AppendLine().AppendLine("```").AppendLine(shrunk.ToString()).AppendLine("```");
        }
        foreach (var line in lines) io.Output.WriteLine(line);
        var allGood = rows.All(r => r.Found && r.ShrunkSteps <= r.Documented);
        OutDirectory.WriteAtomically(Path.Combine(dir, HuntJson.File), HuntJson.Write(settings.Replay, settings.MaxTest, rows));
        OutDirectory.WriteAtomically(Path.Combine(dir, ReportFile), table.ToString());
        io.Output.WriteLine(allGood ? "every seeded bug found and shrunk to its documented length" : "SOME BUGS ESCAPED or shrank too little");
        return allGood ? ExitCodes.Conformant : ExitCodes.Diverged;
    }
}
