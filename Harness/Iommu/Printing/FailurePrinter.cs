using System.Text;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Iommu.Printing;

/// <summary>
/// The report of a failing run, shaped to be pasted into an issue: first how to reproduce it, then the step table,
/// then the problem, then the trace as JSON with the model's answers as <c>expect</c>s (save it under traces/ and it
/// replays as a regression test).
/// </summary>
public static class FailurePrinter
{
    /// <summary>The replay command for a saved trace file.</summary>
    public static string ReplayCommand(string traceFile) => $"dotnet run --project Runner -- replay {traceFile}";

    /// <param name="report">The (usually shrunk) failing run.</param>
    /// <param name="reproduce">
    /// A line that reproduces the failure, e.g. an FsCheck replay seed; printed first when given.
    /// </param>
    /// <param name="traceFile">Where the trace was (or will be) saved; when given, the first line is its replay command.</param>
    public static string Print(RunReport<Trace> report, string? reproduce = null, string? traceFile = null)
    {
        var text = new StringBuilder();
        if (reproduce is not null) text.AppendLine(reproduce);
        text.AppendLine(traceFile is not null
            ? $"replay: {ReplayCommand(traceFile)}"
            : $"replay: save the trace below as <file>.json, then {ReplayCommand("<file>.json")}");
        text.AppendLine();
        text.AppendLine($"{StepTable.Summary(report)}: {report.Trace.Title}".TrimEnd(' ', ':'));
        text.Append(StepTable.Render(report));
        text.AppendLine();
        text.AppendLine($"problem: {report.Problem?.Message ?? "none"}");
        text.AppendLine();
        text.Append(TraceJson.Write(TraceJson.WithModelExpects(report)));
        return text.ToString();
    }
}
