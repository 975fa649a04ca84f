namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// One structural invariant of kernel-semantics.md §c: its id (<c>c.2</c>), a one-line statement, and a check of
/// the objects in a scope that answers a violation message or null. Checks must hold for every correct kernel
/// behaviour, misuse included, and look only at the scope (a sweep's scope is everything).
/// </summary>
public sealed record Invariant(string Id, string Statement, Func<StateView, Scope, InvariantContext, string?> Check);
