using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>A trace file read and validated, ready to run.</summary>
internal sealed class LoadedTrace
{
    internal LoadedTrace(Trace trace) => Trace = trace;

    internal Trace Trace { get; }

    public string Title => Trace.Title;

    public IReadOnlyList<string> Bugs => Trace.Bugs;
}

internal enum ReplayVerdict { Conformant, Diverged, ExpectMismatch }

/// <summary>One replayed trace: the verdict, the step table, its summary line and the problem if any.</summary>
internal sealed record ReplayOutcome(ReplayVerdict Verdict, string Table, string Summary, string? Problem);

internal static class ReplayCall
{
    /// <summary>Reads and validates a trace file; throws on anything wrong with it.</summary>
    public static LoadedTrace Read(string file) => new(TraceJson.ReadFile(file));

    /// <summary>Whether <paramref name="e"/> is the Harness's own "malformed trace" report (its message names file, step and field).</summary>
    public static bool IsFormatError(Exception e) => e is TraceFormatException;

    /// <summary>Runs the trace on model and implementation and renders the step table.</summary>
    public static ReplayOutcome Run(LoadedTrace trace)
    {
        // Incremental with sweeps; a failure is re-run with full per-step checks, which names its step.
        var report = Executor.Run(trace.Trace);
        var verdict = report.Verdict switch
        {
            Verdict.Conformant => ReplayVerdict.Conformant,
            Verdict.ExpectMismatch => ReplayVerdict.ExpectMismatch,
            _ => ReplayVerdict.Diverged,
        };
        return new ReplayOutcome(verdict, StepTable.Render(report), StepTable.Summary(report), report.Problem?.Message);
    }
}
