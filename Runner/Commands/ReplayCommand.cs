using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>replay &lt;trace.json&gt; [more.json ...]</c>: reads each trace, runs it on model and implementation, prints one
/// row per step and the problem, and exits with the worst code over all files.
/// </summary>
public static class ReplayCommand
{
    public static readonly Command Command = new(
        "replay", "replay <trace.json> [more.json ...]", "run saved traces on model and implementation, one row per step", Run);

    private static int Run(string[] files, TextWriter output, TextWriter errors)
    {
        if (files.Length == 0)
        {
            errors.WriteLine($"usage: {Command.Usage}");
            return ExitCodes.Usage;
        }
        var worst = ExitCodes.Conformant;
        foreach (var file in files)
        {
            if (files.Length > 1) output.WriteLine($"== {file}");
            worst = Math.Max(worst, ReplayOne(file, output, errors));
            if (files.Length > 1) output.WriteLine();
        }
        return worst;
    }

    /// <summary>Replays one file; answers its exit code.</summary>
    public static int ReplayOne(string file, TextWriter output, TextWriter errors)
    {
        Trace trace;
        try
        {
            trace = TraceJson.ReadFile(file);
        }
        catch (TraceFormatException e)
        {
            errors.WriteLine($"malformed trace: {e.Message}");
            return ExitCodes.Malformed;
        }

        RunReport report;
        try
        {
            report = Executor.Run(trace);
        }
        catch (Exception e)
        {
            errors.WriteLine($"internal error while replaying {file}: {e.GetType().Name}: {e.Message}");
            errors.WriteLine(e.StackTrace);
            return ExitCodes.InternalError;
        }

        if (trace.Title.Length > 0) output.WriteLine(trace.Title);
        if (!trace.Bugs.IsEmpty) output.WriteLine($"bugs: {string.Join(", ", trace.Bugs)}");
        output.Write(StepTable.Render(report));
        output.WriteLine(StepTable.Summary(report));
        if (report.Problem is not null) output.WriteLine($"problem: {report.Problem}");
        return report.Verdict switch
        {
            Verdict.Conformant => ExitCodes.Conformant,
            Verdict.ExpectMismatch => ExitCodes.ExpectMismatch,
            _ => ExitCodes.Diverged,
        };
    }
}
