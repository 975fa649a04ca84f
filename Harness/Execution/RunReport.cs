using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Harness.Traces;

namespace IommuConformance.Harness.Execution;

/// <summary>How a run ended; the numbers are the Runner's exit codes (spec §5).</summary>
public enum Verdict
{
    /// <summary>Every step conformant, every invariant held, every expect admitted the model's outcome.</summary>
    Conformant = 0,
    /// <summary>The implementation diverged from the model, broke an invariant, or threw.</summary>
    Diverged = 1,
    /// <summary>The model's outcome disagreed with a step's <c>expect</c>.</summary>
    ExpectMismatch = 2,
}

/// <summary>One executed step: both outcomes and, when the step failed, what went wrong.</summary>
public sealed record StepReport(int Index, Operation Op, Outcome ModelOutcome, Outcome? ImplOutcome, string? Problem)
{
    public bool Ok => Problem is null;
}

/// <summary>The result of running one trace on model and implementation, up to the first failing step.</summary>
public sealed record RunReport(Trace Trace, ImmutableArray<StepReport> Steps, Verdict Verdict, string? Problem)
{
    public bool Conformant => Verdict == Verdict.Conformant;

    /// <summary>Index of the failing step, or null when the run was conformant.</summary>
    public int? FailingIndex => Conformant ? null : Steps.Length - 1;
}
