using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Execution;

/// <summary>How a run ended; the numbers are the Runner's exit codes (spec §5).</summary>
public enum Verdict
{
    /// <summary>Every step conformant, every check held, every expect admitted the model's outcome.</summary>
    Conformant = 0,
    /// <summary>The system diverged from the model, broke an invariant, or threw.</summary>
    Diverged = 1,
    /// <summary>The model's outcome disagreed with a step's <c>expect</c>.</summary>
    ExpectMismatch = 2,
}

/// <summary>One executed step: the model's answer, the system's (null when it threw), and what went wrong.</summary>
public sealed record StepReport(int Index, Operation Op, Outcome ModelOutcome, Outcome? ImplOutcome, Problem? Problem)
{
    public bool Ok => Problem is null;

    /// <summary>The printers' verdict column.</summary>
    public string Label => Problem?.Label ?? "ok";
}

/// <summary>The result of running one case, up to and including the first failing step.</summary>
public sealed record RunReport<TCase>(TCase Trace, ImmutableArray<StepReport> Steps, Verdict Verdict, Problem? Problem)
{
    public bool Conformant => Verdict == Verdict.Conformant;

    /// <summary>Index (into <see cref="Steps"/>) of the failing step, or null when the run was conformant.</summary>
    public int? FailingIndex => Conformant ? null : Steps.Length - 1;

    /// <summary>How many steps of the case were checked in full mode before the run stopped (for the shrinker's prefix cache).</summary>
    public int CheckedSteps => Steps.Length;
}
