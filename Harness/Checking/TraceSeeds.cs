namespace IommuConformance.Harness.Checking;

/// <summary>
/// Per-trace seeding of campaigns. Trace k of a campaign is built from a seed and an FsCheck-style size that depend on
/// the campaign's seed, gamma and k alone, never on the campaign's length, its shard or the traces before it: so the
/// shards of a campaign are disjoint parts of the same set of traces, a count-boxed and a time-boxed campaign share
/// their prefix, and one trace can be rebuilt from its number.
/// </summary>
public static class TraceSeeds
{
    /// <summary>Sizes sweep 0..EndSize over each block of this many traces (FsCheck sweeps once over the whole run).</summary>
    public const int SizeCycle = 1000;

    /// <summary>SplitMix64 at position k + 1 of the stream (seed, gamma): independent-looking seeds for consecutive k.</summary>
    public static ulong Seed(ulong seed, ulong gamma, long k)
    {
        var z = seed + gamma * (ulong)(k + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The size of trace k: a linear sweep from 0 to <paramref name="endSize"/> in each block of <see cref="SizeCycle"/>.</summary>
    public static int Size(long k, int endSize) => (int)(k % SizeCycle * endSize / (SizeCycle - 1));
}
