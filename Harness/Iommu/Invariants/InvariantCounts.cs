namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// How often each structural invariant was evaluated on this thread (one count per invariant per scope checked),
/// for the conformance report. Per thread, so parallel test runs do not mix; a campaign reads the difference
/// around the runs it counts.
/// </summary>
public static class InvariantCounts
{
    [ThreadStatic] private static long[]? t_counts;

    /// <summary>
    /// Counts the objects of a scope the invariants are about to be checked over, and answers this thread's counters,
    /// whose first slots the checker increments per invariant evaluated.
    /// </summary>
    internal static long[] CountScope(Scope scope)
    {
        var counts = t_counts ??= new long[Slots];
        counts[^3] += scope.Devices.Count;
        counts[^2] += scope.Groups.Count;
        counts[^1] += scope.Domains.Count;
        return counts;
    }

    /// <summary>One count per invariant, then the devices, groups and domains of the scopes checked.</summary>
    private static int Slots => StructuralInvariants.All.Count + 3;

    /// <summary>The scope counts' names, in the order of the last three slots of <see cref="Snapshot"/>.</summary>
    public static readonly IReadOnlyList<string> ScopeKinds = ["devices", "groups", "domains"];

    /// <summary>The counts so far: by position in <see cref="StructuralInvariants.All"/>, then the three scope counts.</summary>
    public static long[] Snapshot() => t_counts is { } counts ? (long[])counts.Clone() : new long[Slots];
}
