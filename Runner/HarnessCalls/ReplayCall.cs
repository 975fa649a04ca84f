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

    public int Steps => Trace.Steps.Length;

    /// <summary>The trace with <paramref name="bugs"/> switched on too (each once, in catalogue order).</summary>
    public LoadedTrace WithBugs(IReadOnlyCollection<string> bugs) => bugs.Count == 0 ? this
        : new(Trace with { Bugs = [.. SeededBugs.Names.Where(b => Trace.Bugs.Contains(b) || bugs.Contains(b))] });

    /// <summary>The trace cut after its first <paramref name="steps"/> steps.</summary>
    public LoadedTrace Through(int steps) => new(Trace.WithSteps(Trace.Steps.Take(steps)));
}

internal enum ReplayVerdict { Conformant, Diverged, ExpectMismatch }

/// <summary>One replayed trace: the verdict, the step table, its summary line and the problem if any.</summary>
internal sealed record ReplayOutcome(ReplayVerdict Verdict, string Table, string Summary, string? Problem)
{
    /// <summary>Model and implementation state side by side where the run stopped (asked for by <c>--step</c>).</summary>
    public string? States { get; init; }
}

internal static class ReplayCall
{
    /// <summary>Reads and validates a trace file; throws on anything wrong with it.</summary>
    public static LoadedTrace Read(string file) => new(TraceJson.ReadFile(file));

    /// <summary>Why the emulated implementation cannot run this trace's machine, or null.</summary>
    public static string? CannotRun(LoadedTrace trace) =>
        Implementations.IommuSystem.CannotRun(trace.Trace.Config, trace.Trace.Topology);

    /// <summary>Whether <paramref name="e"/> is the Harness's own "malformed trace" report (its message names file, step and field).</summary>
    public static bool IsFormatError(Exception e) => e is TraceFormatException;

    /// <summary>
    /// Runs the trace on model and implementation and renders the step table; with <paramref name="states"/>, also
    /// both sides' states where the run stopped.
    /// </summary>
    public static ReplayOutcome Run(LoadedTrace trace, bool states = false)
    {
        // Incremental with sweeps; a failure is re-run with full per-step checks, which names its step. The sides of
        // the last run are kept for the states.
        (IIommuJudge Model, IIommuSystem System)? sides = null;
        var report = Executor.Run(trace.Trace, t => (sides = IommuBinding.ProjectSides(t)).Value);
        var verdict = report.Verdict switch
        {
            Verdict.Conformant => ReplayVerdict.Conformant,
            Verdict.ExpectMismatch => ReplayVerdict.ExpectMismatch,
            _ => ReplayVerdict.Diverged,
        };
        return new ReplayOutcome(verdict, StepTable.Render(report), StepTable.Summary(report), report.Problem?.Message)
        {
            States = states && sides is { } s ? StateSideBySide.Render(s.Model.State, s.System.Snapshot()) : null,
        };
    }
}
