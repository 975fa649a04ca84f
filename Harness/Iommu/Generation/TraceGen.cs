using IommuConformance.Contract;
using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;

using IommuConformance.Harness.Iommu.Execution;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>What a generated trace looks like: which seeded bugs it switches on and how long it may grow.</summary>
/// <param name="Bugs">Seeded bugs switched on in every generated trace (default none).</param>
/// <param name="MaxSteps">Upper bound on steps; the FsCheck size scales the length up to it (default 500).</param>
/// <param name="Swarm">Swarm testing: each trace enables a random subset of the rules with random weight biases, and
/// its own rates of bad input (default on; off: every rule at its nominal weight, nominal rates).</param>
/// <param name="MemoryOps">Generate the operations of issue #6 (<c>map</c>, <c>unmap</c>, <c>iova_to_phys</c>,
/// <c>device_dma</c>) (default on; off: the core slice's operations only).</param>
/// <param name="Drivers">The drivers machines are drawn from; default (empty): every driver of the contract
/// (<see cref="DriverNames.All"/>). A seeded bug of one driver's hardware layer is hunted on machines of that driver (<see cref="HuntSettings"/>).</param>
/// <param name="ScalableShare">The share of vtd instances drawn in scalable mode (<see cref="TopologyGen.WithModes"/>); a
/// seeded bug of scalable mode is hunted with every vtd unit scalable.</param>
/// <param name="PasidFocus">The PASID rules fire three times as often and a DMA of a device with PASID entries takes one
/// 90 % of the time (instead of 40 %), preferring one that maps something: the hunt of a PASID-hardware bug, whose shape is a PASID-tagged DMA followed by a
/// teardown. Off in the default run (its draws are unchanged by the option).</param>
/// <param name="RequireDirect">Machines may have <c>requireDirect</c> devices (default). Off: every device is drawn as it
/// would be, then without the flag.</param>
public sealed record TraceGenSettings(ImmutableArray<string> Bugs, int MaxSteps = 500, bool Swarm = true, bool MemoryOps = true,
    ImmutableArray<string> Drivers = default, bool RequireDirect = true, double ScalableShare = TopologyGen.ScalableShare,
    bool PasidFocus = false)
{
    /// <summary>The drivers of generated machines.</summary>
    public IReadOnlyList<string> MachineDrivers =>
        !Drivers.IsDefaultOrEmpty ? Drivers : DriverNames.All;

    public static readonly TraceGenSettings Default = new([]);

    public static TraceGenSettings WithBug(string bug) => Default with { Bugs = [bug] };
}

/// <summary>
/// Model-driven trace generation by rules (<see cref="IommuRules"/>) with swarm testing. FsCheck draws a 64-bit seed
/// and passes its size; <see cref="Build"/> then makes the whole trace in plain code from a <see cref="Prng"/>: a
/// random machine (<see cref="TopologyGen"/>), a length, the trace's swarm of rules, and the steps, each chosen from
/// the model's state after the previous one. The same seed and size always give the same trace.
/// </summary>
public static class TraceGen
{
    public static Gen<Trace> Trace(TraceGenSettings settings) =>
        SeededGen.From((seed, size) => Build(settings, seed, size));

    /// <summary>The trace arbitrary of every property: this generator with <see cref="TraceShrinker"/>.</summary>
    public static Arbitrary<Trace> Arbitrary(TraceGenSettings settings) =>
        Arb.From(Trace(settings), TraceShrinker.Shrink);

    /// <summary>The trace of <paramref name="seed"/> at FsCheck size <paramref name="size"/>.</summary>
    public static Trace Build(TraceGenSettings settings, ulong seed, int size) => Generate(settings, seed, size).Trace;

    /// <summary>The trace of <paramref name="seed"/> at <paramref name="size"/>, with its session (the model's outcome of every step).</summary>
    public static (Trace Trace, IommuSession Session, RuleMix<IommuSession> Rules) Generate(
        TraceGenSettings settings, ulong seed, int size, bool recordOutcomes = false)
    {
        // Separate streams, so that a change in one part (a new rule) leaves the others' draws alone.
        var root = new Prng(seed);
        var machine = root.Fork();
        var shape = root.Fork();
        var steps = root.Fork();
        var pasids = root.Fork();
        var modes = root.Fork();
        var config = TopologyGen.Config(machine);
        var topology = TopologyGen.WithModes(TopologyGen.WithPasids(TopologyGen.Topology(machine, settings.MachineDrivers), pasids), modes, settings.ScalableShare);
        if (!settings.RequireDirect) topology = topology with { Devices = [.. topology.Devices.Select(d => d with { RequireDirect = false })] };
        var length = Length(shape, size, settings.MaxSteps);
        var set = IommuRules.For(settings);
        var rules = settings.Swarm ? set.Swarm(shape, SwarmOptions.Default) : set.Full();
        var mix = settings.Swarm ? ArgMix.Default.Swarm(shape) : ArgMix.Default;
        var session = new IommuSession(config, topology, steps, length, mix, recordOutcomes)
        {
            PasidFocus = settings.PasidFocus,
        };
        var initial = session.State;
        RuleEngine.Run(session, rules);
        var trace = new Trace("generated", settings.Bugs, config, topology, session.Steps());
        ModelTrail.Attach(trace, initial, session.Trail);
        return (trace, session, rules);
    }

    /// <summary>
    /// The number of steps for size <paramref name="size"/>: mostly short (size/4 to size/2), some medium (up to the
    /// size), and one in sixteen long (2 to 5 times the size: several hundred steps at the default run's end size),
    /// at most <paramref name="maxSteps"/>.
    /// </summary>
    public static int Length(Prng random, int size, int maxSteps)
    {
        var s = Math.Max(size, 1);
        var roll = random.Below(16);
        var length = roll switch
        {
            < 13 => random.Between(s / 4 + 1, s / 2 + 2),
            < 15 => random.Between(s / 2 + 1, s + 5),
            _ => random.Between(2 * s, 5 * s + 10),
        };
        return Math.Clamp(length, Math.Min(1, maxSteps), Math.Max(maxSteps, 0));
    }
}
