using IommuConformance.Contract;

namespace IommuConformance.Harness.Execution;

/// <summary>What kind of failure a step report carries; the printers' verdict column.</summary>
public enum StepVerdict { Ok, Diverged, Invariant, Expect }

/// <summary>
/// The texts of step problems. Each starts with a fixed prefix (<c>diverged: </c>, <c>invariant </c>,
/// <c>expect: </c>) so that printers can classify a <see cref="StepReport"/> without extra fields.
/// </summary>
public static class Problems
{
    public const string DivergedPrefix = "diverged: ";
    public const string InvariantPrefix = "invariant ";
    public const string ExpectPrefix = "expect: ";

    public static StepVerdict Classify(StepReport step) => step.Problem switch
    {
        null => StepVerdict.Ok,
        var p when p.StartsWith(InvariantPrefix, StringComparison.Ordinal) => StepVerdict.Invariant,
        var p when p.StartsWith(ExpectPrefix, StringComparison.Ordinal) => StepVerdict.Expect,
        _ => StepVerdict.Diverged,
    };

    public static string Label(StepVerdict verdict) => verdict switch
    {
        StepVerdict.Ok => "ok",
        StepVerdict.Diverged => "DIVERGED",
        StepVerdict.Invariant => "INVARIANT",
        _ => "EXPECT",
    };

    /// <summary>Null when the outcomes are equal, else which parts differ.</summary>
    public static string? Divergence(Outcome model, Outcome implementation)
    {
        if (model.Equals(implementation)) return null;
        var parts = new List<string>(3);
        if (model.Errno != implementation.Errno)
            parts.Add($"errno differs: model {model.Errno}, implementation {implementation.Errno}");
        if (model.Value != implementation.Value)
            parts.Add($"value differs: model {Show(model.Value)}, implementation {Show(implementation.Value)}");
        if (!model.Warnings.SequenceEqual(implementation.Warnings))
            parts.Add($"warnings differ: model [{string.Join(", ", model.Warnings)}], implementation [{string.Join(", ", implementation.Warnings)}]");
        return DivergedPrefix + string.Join("; ", parts);
    }

    public static string Threw(string when, Exception e) =>
        $"{DivergedPrefix}implementation threw {e.GetType().Name} {when}: {e.Message}";

    public static string ExpectFailed(Traces.Expect expect, Outcome model) =>
        $"{ExpectPrefix}the trace expects {Describe(expect)}, the model answered {model}";

    public static string Invariant(string violation) => InvariantPrefix + violation;

    private static string Describe(Traces.Expect e) =>
        e.Errno + (e.Value is null ? "" : $" \"{e.Value}\"") + (e.Warnings is { } w ? $" [{string.Join(", ", w)}]" : "");

    private static string Show(string? value) => value is null ? "no value" : $"\"{value}\"";
}
