using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>The trace's <c>expect</c> against the model's answer: a wrong expect makes the model's word moot (exit 2).</summary>
public sealed class ExpectCheck : IStepCheck
{
    public string Name => "expect";

    public Problem? Check(StepContext step) =>
        step.Step.Expect is { } expect && !expect.Admits(step.Judgement.Expected)
            ? new Problem(ProblemKind.Expect, Name, $"the trace expects {expect}, the model answered {step.Judgement.Expected}")
            : null;
}

/// <summary>The implementation's outcome must be one the model allows: errno, value and warnings.</summary>
public sealed class OutcomeCheck : IStepCheck
{
    public string Name => "outcome";

    public Problem? Check(StepContext step) =>
        step.Judgement.Allowed ? null : new Problem(ProblemKind.Divergence, Name, Differences(step.Judgement.Expected, step.Observed));

    /// <summary>Which parts of two outcomes differ, in words.</summary>
    public static string Differences(Outcome model, Outcome implementation)
    {
        var parts = new List<string>(3);
        if (model.Errno != implementation.Errno)
            parts.Add($"errno differs: model {model.Errno}, implementation {implementation.Errno}");
        if (model.Value != implementation.Value)
            parts.Add($"value differs: model {Show(model.Value)}, implementation {Show(implementation.Value)}");
        if (!model.Warnings.SequenceEqual(implementation.Warnings))
            parts.Add($"warnings differ: model [{string.Join(", ", model.Warnings)}], implementation [{string.Join(", ", implementation.Warnings)}]");
        return parts.Count == 0 ? $"the model does not allow {implementation}" : string.Join("; ", parts);
    }

    private static string Show(string? value) => value is null ? "no value" : $"\"{value}\"";
}
