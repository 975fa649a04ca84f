using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace IommuConformance.Harness.Checking;

/// <summary>
/// One part of a campaign split over machines: shard <see cref="Index"/> of <see cref="Count"/> (1-based, as
/// <c>--shard 1/3</c> in Playwright and Jest) runs the traces k with k mod Count = Index − 1.
/// </summary>
public sealed record Shard(int Index, int Count)
{
    public static readonly Shard Whole = new(1, 1);

    public bool IsWhole => Count == 1;

    /// <summary>Whether trace <paramref name="k"/> of the campaign is this shard's.</summary>
    public bool Owns(long k) => k % Count == Index - 1;

    public override string ToString() => $"{Index}/{Count}";

    public const string Format = "I/N with 1 ≤ I ≤ N (e.g. 1/4)";

    /// <summary>Parses <c>I/N</c>; on failure <paramref name="problem"/> reads as the rest of a sentence.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out Shard? shard, [NotNullWhen(false)] out string? problem)
    {
        shard = null;
        var parts = text.Split('/');
        string? why = null;
        if (parts.Length != 2) why = "no single '/'";
        else if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var i)) why = $"I '{parts[0]}' is not a positive integer";
        else if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) why = $"N '{parts[1]}' is not a positive integer";
        else if (n < 1) why = "N must be at least 1";
        else if (i < 1 || i > n) why = $"I must be from 1 to {n}";
        else shard = new Shard(i, n);
        problem = why is null ? null : $"must be {Format}, got '{text}': {why}";
        return why is null;
    }
}

/// <summary>
/// What a campaign runs: its seed (every trace's seed and size derive from it and the trace's number alone, see
/// <see cref="TraceSeeds"/>), its box (a trace count, a duration, or both: whichever ends first), its shard, and
/// the seeded bugs switched on.
/// </summary>
/// <param name="Traces">Traces of the whole campaign (all shards), or null when boxed by time alone.</param>
/// <param name="Duration">Wall-time box of this shard, or null when boxed by count alone.</param>
/// <param name="MaxShrunk">Failing traces shrunk and saved (the first ones by trace number); the rest are counted.</param>
/// <param name="MemoryOps">The default run's traces (true) or the core slice's, without the IOMMU API (benchmarks).</param>
public sealed record CampaignPlan(
    ulong Seed,
    ulong Gamma,
    long? Traces,
    TimeSpan? Duration,
    Shard Shard,
    ImmutableArray<string> Bugs,
    int EndSize = 100,
    int MaxShrunk = 10,
    bool MemoryOps = true)
{
    /// <summary>A count-boxed, unsharded campaign without bugs (tests, benchmarks).</summary>
    public static CampaignPlan Of(long traces, ulong seed = 20261122UL, ulong gamma = 0x9E3779B97F4A7C15UL) =>
        new(seed, gamma, traces, null, Shard.Whole, []);

    /// <summary>The upper bound on trace numbers when boxed by time alone.</summary>
    public const long Unbounded = long.MaxValue;
}
