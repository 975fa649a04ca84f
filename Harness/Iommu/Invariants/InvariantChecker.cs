using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>Runs the structural invariants over a scope of the view and answers the first violation.</summary>
public static class InvariantChecker
{
    // By position in StructuralInvariants.All: whether the fused pass mirrors that invariant.
    private static readonly bool[] Fused = [.. StructuralInvariants.All.Select(i => FusedInvariants.Covers.Contains(i.Id))];

    /// <summary>The first violation as <c>c.N: message</c>, or null when every invariant holds in the scope.</summary>
    public static string? FirstViolation(StateView view, Scope scope, InvariantContext context)
    {
        var all = StructuralInvariants.All;
        // One thread-static lookup per call: the counters of the conformance report (InvariantCounts).
        var counts = InvariantCounts.CountScope(scope);
        var hold = FusedInvariants.Hold(view, scope, context);
        if (t_crossCheck && hold && Ordered(view, scope, context) is { } missed)
            throw new InvalidOperationException($"the fused invariant pass missed a violation: {missed} (FusedInvariants)");
        if (hold)
        {
            for (var i = 0; i < all.Count; i++)
            {
                counts[i]++;
                if (!Fused[i] && all[i].Check(view, scope, context) is { } message)
                    return $"{all[i].Id}: {message}";
            }
            return null;
        }
        // Something is broken: the ordered list names the first violation, in order.
        for (var i = 0; i < all.Count; i++)
        {
            counts[i]++;
            if (all[i].Check(view, scope, context) is { } message)
                return $"{all[i].Id}: {message}";
        }
        throw new InvalidOperationException("the fused invariant pass found a violation the ordered invariants do not: a suite bug (FusedInvariants)");
    }

    [ThreadStatic] private static bool t_crossCheck;

    /// <summary>
    /// Until disposed, every check on this thread also runs the ordered list where the fused pass found nothing, and
    /// throws if the list finds a violation (tests: the fused pass misses nothing the definition sees).
    /// </summary>
    public static IDisposable CrossChecking()
    {
        t_crossCheck = true;
        return new CrossCheckScope();
    }

    private sealed class CrossCheckScope : IDisposable
    {
        public void Dispose() => t_crossCheck = false;
    }

    private static string? Ordered(StateView view, Scope scope, InvariantContext context)
    {
        foreach (var i in StructuralInvariants.All)
            if (i.Check(view, scope, context) is { } message) return $"{i.Id}: {message}";
        return null;
    }

    /// <summary>Whether the fused pass finds the whole snapshot sound (tests: it must agree with <see cref="AllViolations"/>).</summary>
    public static bool FusedPassHolds(SystemSnapshot snapshot, InvariantContext context)
    {
        var view = new StateView();
        view.Load(snapshot);
        return FusedInvariants.Hold(view, Scope.All(view), context);
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
