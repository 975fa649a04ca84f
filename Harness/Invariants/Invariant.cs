namespace IommuConformance.Harness.Invariants;

/// <summary>
/// One structural invariant of kernel-semantics.md §c: its id (<c>c.2</c>), a one-line statement, and a check that
/// answers a violation message or null. Checks must hold for every correct kernel behaviour, misuse included.
/// </summary>
public sealed record Invariant(string Id, string Statement, Func<SnapshotIndex, InvariantContext, string?> Check);
