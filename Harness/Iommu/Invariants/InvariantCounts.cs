namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// How often each structural invariant was evaluated on this thread (one count per invariant per scope checked),
/// for the conformance report. Per thread, so parallel test runs do not mix; a campaign reads the difference
/// around the runs it counts.
/// </summary>
public static class InvariantCounts
{
    [ThreadStatic] private static long[]? t_counts;

    internal static void Count(int invariant) => (t_counts ??= new long[StructuralInvariants.All.Count])[invariant]++;

    /// <summary>The counts so far, by position in <see cref="StructuralInvariants.All"/>.</summary>
    public static long[] Snapshot() => t_counts is { } counts ? (long[])counts.Clone() : new long[StructuralInvariants.All.Count];
}
