using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>Runs the structural invariants over a scope of the view and answers the first violation.</summary>
public static class InvariantChecker
{
    /// <summary>The first violation as <c>c.N: message</c>, or null when every invariant holds in the scope.</summary>
    public static string? FirstViolation(StateView view, Scope scope, InvariantContext context)
    {
        var all = StructuralInvariants.All;
        // One thread-static lookup per call: the counters of the conformance report (InvariantCounts).
        var counts = InvariantCounts.CountScope(scope);
        for (var i = 0; i < all.Count; i++)
        {
            counts[i]++;
            if (all[i].Check(view, scope, context) is { } message)
                return $"{all[i].Id}: {message}";
        }
        return null;
    }

    /// <summary>Every violation of a whole snapshot, for tests and diagnostics.</summary>
    public static IReadOnlyList<string> AllViolations(SystemSnapshot snapshot, InvariantContext context)
    {
        var view = new StateView();
        view.Load(snapshot);
        var scope = Scope.All(view);
        return [.. StructuralInvariants.All.Select(i => i.Check(view, scope, context) is { } m ? $"{i.Id}: {m}" : null).OfType<string>()];
    }
}
