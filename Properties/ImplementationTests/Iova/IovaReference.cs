namespace IommuConformance.Properties.ImplementationTests.IovaAllocator;

/// <summary>
/// A tiny reference for the allocator, independent of iova.c: the ranges requested as reserved and the ranges a
/// user holds. It decides nothing about placement; it only says what a placement must respect.
/// </summary>
internal sealed class IovaReference
{
    /// <summary>One range a user holds: its node's extent, the size it frees with, and how it was allocated.</summary>
    public sealed record Held(ulong Pfn, ulong NodeSize, ulong FreeSize, bool Fast)
    {
        public ulong Last => Pfn + NodeSize - 1;
    }

    public List<(ulong Lo, ulong Hi)> Reserved { get; } = [];

    public List<Held> Live { get; } = [];

    /// <summary>True if [lo, hi] meets a held or a reserved range.</summary>
    public bool Overlaps(ulong lo, ulong hi) =>
        Live.Any(h => lo <= h.Last && hi >= h.Pfn) || Reserved.Any(r => lo <= r.Hi && hi >= r.Lo);

    /// <summary>The pfns of [lo, hi] covered by no reservation.</summary>
    public ulong Unreserved(ulong lo, ulong hi)
    {
        ulong count = 0;
        for (var p = lo; p <= hi; p++)
            if (!Reserved.Any(r => p >= r.Lo && p <= r.Hi)) count++;
        return count;
    }

    /// <summary>The pfns covered by the reservations, as a sorted set.</summary>
    public SortedSet<ulong> ReservedPfns() =>
        [.. Reserved.SelectMany(r => Enumerable.Range(0, (int)(r.Hi - r.Lo + 1)).Select(i => r.Lo + (ulong)i))];

    public static ulong RoundupPowOfTwo(ulong n)
    {
        ulong p = 1;
        while (p < n) p <<= 1;
        return p;
    }
}
