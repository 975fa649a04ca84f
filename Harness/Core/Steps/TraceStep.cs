using System.Collections.Immutable;
using IommuConformance.Contract;

namespace IommuConformance.Harness.Core.Steps;

/// <summary>One step: the operation and, optionally, what the model must answer.</summary>
public sealed record TraceStep(Operation Op, Expect? Expect = null);

/// <summary>
/// An <c>expect</c>: the model's outcome must have this errno, and this value and these warnings where given.
/// </summary>
public sealed record Expect(Errno Errno, string? Value = null, ImmutableArray<string>? Warnings = null)
{
    public bool Equals(Expect? other) =>
        other is not null && Errno == other.Errno && Value == other.Value
        && (Warnings?.SequenceEqual(other.Warnings ?? []) ?? other.Warnings is null);

    public override int GetHashCode() => HashCode.Combine(Errno, Value);

    public bool Admits(Outcome outcome) =>
        outcome.Errno == Errno && (Value is null || Value == outcome.Value)
        && (Warnings is null || Warnings.Value.SequenceEqual(outcome.Warnings));

    /// <summary>The exact <c>expect</c> for an outcome (warnings omitted when there are none).</summary>
    public static Expect Of(Outcome outcome) => new(outcome.Errno, outcome.Value, outcome.Warnings.IsEmpty ? null : outcome.Warnings);

    public override string ToString() =>
        Errno + (Value is null ? "" : $" \"{Value}\"") + (Warnings is { } w ? $" [{string.Join(", ", w)}]" : "");
}

/// <summary>
/// A checkable case: a sequence of steps over some fixed machine that only the binding knows. The generic
/// executor, shrinker and runner need nothing else of it.
/// </summary>
public interface ICase<TSelf> where TSelf : ICase<TSelf>
{
    ImmutableArray<TraceStep> Steps { get; }

    TSelf WithSteps(IEnumerable<TraceStep> steps);

    /// <summary>Everything but the steps, as a comparable key (equal keys: the same machine and settings).</summary>
    string MachineKey { get; }
}
