using System.Text;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Iommu.Printing;

/// <summary>
/// The per-step table of a run: #, operation, model outcome, implementation outcome, verdict. Columns are padded
/// to their widest cell (long operations are not cut: the table is for people and for grep).
/// </summary>
public static class StepTable
{
    public static readonly IReadOnlyList<string> Headers = ["#", "operation", "model", "implementation", "verdict"];

    public static string Render(RunReport<Trace> report)
    {
        var rows = new List<string[]> { Headers.ToArray() };
        foreach (var step in report.Steps)
            rows.Add(
            [
                (step.Index + 1).ToString(),
                step.Op.ToString(),
                step.ModelOutcome.ToString(),
                step.ImplOutcome?.ToString() ?? "(threw)",
                step.Label,
            ]);
        var widths = Enumerable.Range(0, Headers.Count).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        for (var r = 0; r < rows.Count; r++)
        {
            text.AppendLine(string.Join("  ", rows[r].Select((cell, c) => c == 0 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd());
            if (r == 0) text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
        return text.ToString();
    }

    /// <summary>A one-line summary: <c>conformant (12 steps)</c> or <c>DIVERGED at step 4 of 9</c>.</summary>
    public static string Summary(RunReport<Trace> report) => report.Verdict switch
    {
        Verdict.Conformant => $"conformant ({report.Steps.Length} steps)",
        _ when report.Steps.IsEmpty => $"{Word(report.Verdict)} before the first step",
        _ => $"{Word(report.Verdict)} at step {report.Steps[^1].Index + 1} of {report.Trace.Steps.Length}",
    };

    private static string Word(Verdict verdict) => verdict == Verdict.ExpectMismatch ? "EXPECT MISMATCH" : "DIVERGED";
}
