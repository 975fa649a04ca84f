using IommuConformance.Implementations;

namespace IommuConformance.Harness.Invariants;

/// <summary>Runs the structural invariants on one snapshot and answers the first violation.</summary>
public static class InvariantChecker
{
    /// <summary>The first violation as <c>c.N: message</c>, or null when every invariant holds.</summary>
    public static string? FirstViolation(SystemSnapshot snapshot, InvariantContext context)
    {
        var index = new SnapshotIndex(snapshot);
        foreach (var invariant in StructuralInvariants.All)
            if (invariant.Check(index, context) is { } message)
                return $"{invariant.Id}: {message}";
        return null;
    }

    /// <summary>Every violation, for tests and diagnostics.</summary>
    public static IReadOnlyList<string> AllViolations(SystemSnapshot snapshot, InvariantContext context)
    {
        var index = new SnapshotIndex(snapshot);
        return [.. StructuralInvariants.All.Select(i => i.Check(index, context) is { } m ? $"{i.Id}: {m}" : null).OfType<string>()];
    }
}
