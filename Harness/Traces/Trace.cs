using System.Collections.Immutable;
using IommuConformance.Contract;

namespace IommuConformance.Harness.Traces;

/// <summary>
/// A trace (spec §5): the unit that is generated, shrunk, printed, saved and replayed.
/// </summary>
public sealed record Trace(
    string Title,
    ImmutableArray<string> Bugs,
    SystemConfig Config,
    Topology Topology,
    ImmutableArray<TraceStep> Steps)
{
    public const string Format = "iommu-conformance-trace/1";

    public Trace WithSteps(IEnumerable<TraceStep> steps) => this with { Steps = [.. steps] };

    public bool Equals(Trace? other) =>
        other is not null && Title == other.Title && Bugs.SequenceEqual(other.Bugs) && Config == other.Config
        && Topology.Equals(other.Topology) && Steps.SequenceEqual(other.Steps);

    public override int GetHashCode() => HashCode.Combine(Title, Steps.Length, Topology);

    /// <summary>The canonical JSON: FsCheck prints counterexamples with ToString and would cut a list short.</summary>
    public override string ToString() => TraceJson.Write(this);
}

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
}
