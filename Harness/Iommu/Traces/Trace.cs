using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Traces;

/// <summary>
/// A trace (spec §5): the unit that is generated, shrunk, printed, saved and replayed: a machine (config and
/// topology), the seeded bugs switched on, and the steps.
/// </summary>
public sealed record Trace(
    string Title,
    ImmutableArray<string> Bugs,
    SystemConfig Config,
    Topology Topology,
    ImmutableArray<TraceStep> Steps) : ICase<Trace>
{
    public const string Format = "iommu-conformance-trace/1";

    public Trace WithSteps(IEnumerable<TraceStep> steps) => this with { Steps = [.. steps] };

    public string MachineKey
    {
        get
        {
            // A `with` copies this cache too: it holds only for the very machine objects it was computed from.
            if (_machineKey is { } cached && ReferenceEquals(cached.Config, Config) && ReferenceEquals(cached.Topology, Topology)
                && cached.Bugs == Bugs)
                return cached.Key;
            var key = $"{string.Join(",", Bugs)}|{Config}|{string.Join(",", Topology.Iommus)}|{string.Join(",", Topology.Devices)}";
            _machineKey = new MachineKeyCache(Config, Topology, Bugs, key);
            return key;
        }
    }

    private MachineKeyCache? _machineKey;

    private sealed record MachineKeyCache(SystemConfig Config, Topology Topology, ImmutableArray<string> Bugs, string Key);

    public bool Equals(Trace? other) =>
        other is not null && Title == other.Title && Bugs.SequenceEqual(other.Bugs) && Config == other.Config
        && Topology.Equals(other.Topology) && Steps.SequenceEqual(other.Steps);

    public override int GetHashCode() => HashCode.Combine(Title, Steps.Length, Topology);

    /// <summary>The canonical JSON: FsCheck prints counterexamples with ToString and would cut a list short.</summary>
    public override string ToString() => TraceJson.Write(this);
}
