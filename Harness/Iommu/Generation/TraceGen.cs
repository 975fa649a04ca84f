using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Model;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>What a generated trace looks like: which seeded bugs it switches on and how long it may grow.</summary>
/// <param name="Bugs">Seeded bugs switched on in every generated trace (default none).</param>
/// <param name="MaxSteps">Upper bound on steps; the FsCheck size scales the length up to it (default 60).</param>
public sealed record TraceGenSettings(ImmutableArray<string> Bugs, int MaxSteps = 60)
{
    public static readonly TraceGenSettings Default = new([]);

    public static TraceGenSettings WithBug(string bug) => Default with { Bugs = [bug] };
}

/// <summary>
/// Model-driven trace generation: a random machine, then operations chosen one at a time from the model's state
/// (<see cref="OperationGen"/>), so every step is drawn knowing what is probed, owned and allocated.
/// </summary>
public static class TraceGen
{
    public static Gen<Trace> Trace(TraceGenSettings settings) =>
        Gen.Sized(size =>
            from config in TopologyGen.Config()
            from topology in TopologyGen.Topology()
            from length in Gen.Choose(Math.Min(size / 4 + 1, settings.MaxSteps), Math.Min(size / 2 + 2, settings.MaxSteps))
            from steps in Steps(topology.Devices.Select(d => d.Name).ToArray(), ModelState.Initial(config, topology), length, [])
            select new Trace("generated", settings.Bugs, config, topology, steps));

    /// <summary>The trace arbitrary of every property: this generator with <see cref="TraceShrinker"/>.</summary>
    public static Arbitrary<Trace> Arbitrary(TraceGenSettings settings) =>
        Arb.From(Trace(settings), TraceShrinker.Shrink);

    private static HashSet<string> Tried(ImmutableArray<TraceStep> done) =>
        done.Select(s => s.Op).OfType<Probe>().Select(p => p.Dev).ToHashSet();

    private static string[] Bound(ImmutableArray<TraceStep> done) =>
        [.. done.Select(s => s.Op).OfType<DomainAllocPaging>().Select(a => a.As).Distinct()];

    private static Gen<ImmutableArray<TraceStep>> Steps(
        string[] devices, ModelState state, int remaining, ImmutableArray<TraceStep> done) =>
        remaining == 0
            ? Gen.Constant(done)
            : OperationGen.Next(devices, state, $"d{done.Length + 1}", Tried(done), Bound(done)).SelectMany(op =>
                Steps(devices, state.Step(op).Next, remaining - 1, done.Add(new TraceStep(op))));
}
