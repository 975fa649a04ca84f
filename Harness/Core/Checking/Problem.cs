namespace IommuConformance.Harness.Core.Checking;

/// <summary>What kind of failure a step check found; it decides the verdict and the printers' column.</summary>
public enum ProblemKind
{
    /// <summary>The trace's <c>expect</c> disagrees with the model (the model's word is moot: exit 2).</summary>
    Expect,
    /// <summary>The system's outcome is not one the model allows, now or as observed after the step.</summary>
    Divergence,
    /// <summary>A structural invariant or the atomicity of a failed step broke.</summary>
    Invariant,
    /// <summary>The system changed state it did not report as touched (found by a sweep).</summary>
    Unreported,
    /// <summary>The system threw instead of answering.</summary>
    Threw,
}

/// <summary>One check's finding: its kind, the check's name, and a message for people.</summary>
public sealed record Problem(ProblemKind Kind, string Check, string Message)
{
    /// <summary>The column label of a failing step: <c>DIVERGED</c>, <c>INVARIANT</c> or <c>EXPECT</c>.</summary>
    public string Label => Kind switch
    {
        ProblemKind.Expect => "EXPECT",
        ProblemKind.Invariant or ProblemKind.Unreported => "INVARIANT",
        _ => "DIVERGED",
    };

    public override string ToString() => Message;

    public static Problem Threw(string check, string when, Exception e) =>
        new(ProblemKind.Threw, check, $"the system threw {e.GetType().Name} {when}: {e.Message}");
}
