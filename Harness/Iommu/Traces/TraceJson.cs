using IommuConformance.Contract;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Json;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Traces;

/// <summary>
/// Trace files (spec §5, format <c>iommu-conformance-trace/1</c>; docs/trace-format.md): read with full validation,
/// write canonically, and attach the model's answers as <c>expect</c>s so that a printed failure replays as a test.
/// </summary>
public static class TraceJson
{
    /// <summary>Parses and validates; throws <see cref="TraceFormatException"/> naming the step and field.</summary>
    public static Trace Read(string json)
    {
        var trace = TraceReader.Parse(json);
        TraceValidator.Validate(trace);
        return trace;
    }

    /// <summary><see cref="Read"/> of a file; the exception's location is prefixed with the file name.</summary>
    public static Trace ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new TraceFormatException(path, null, Directory.Exists(path) ? "is a directory, not a trace file"
                : File.Exists(path) ? $"cannot be read: {e.Message}" : "no such file");
        }
        try
        {
            return Read(text);
        }
        catch (TraceFormatException e)
        {
            throw new TraceFormatException($"{path}: {e.Location}", e.Field, StripPrefix(e));
        }
    }

    /// <summary>The canonical JSON text of a trace (indented, one line per step, ends with a newline).</summary>
    public static string Write(Trace trace) => TraceWriter.Write(trace);

    /// <summary>One step as a single-line JSON object.</summary>
    public static string WriteStep(TraceStep step) => TraceWriter.Step(step);

    /// <summary>The names of every operation the reader knows, in vocabulary order.</summary>
    public static IReadOnlyList<string> OperationNames { get; } = [.. Operations.All.Names];

    /// <summary>
    /// The report's trace with every executed step's <c>expect</c> set to the model's outcome (value when there is
    /// one, warnings when there are some). The step that failed on an <c>expect</c> keeps its original expect, so the
    /// printed trace still fails the same way. Steps that were not executed are left as they were.
    /// </summary>
    public static Trace WithModelExpects(RunReport<Trace> report)
    {
        var steps = report.Trace.Steps.ToArray();
        foreach (var executed in report.Steps)
        {
            var index = executed.Index;
            if (index < 0 || index >= steps.Length) continue;
            var keepOriginal = report.Verdict == Verdict.ExpectMismatch && index == report.FailingIndexInTrace();
            if (!keepOriginal) steps[index] = steps[index] with { Expect = ExpectOf(executed.ModelOutcome) };
        }
        return report.Trace.WithSteps(steps);
    }

    /// <summary>The exact <c>expect</c> for an outcome (warnings omitted when there are none).</summary>
    public static Expect ExpectOf(Outcome outcome) => Expect.Of(outcome);

    private static int? FailingIndexInTrace(this RunReport<Trace> report) =>
        report.FailingIndex is { } i && i < report.Steps.Length ? report.Steps[i].Index : null;

    private static string StripPrefix(TraceFormatException e)
    {
        var prefix = e.Field is null ? $"{e.Location}: " : $"{e.Location}: field '{e.Field}': ";
        return e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message;
    }
}
