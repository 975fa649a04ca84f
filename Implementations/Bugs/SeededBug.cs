namespace IommuConformance.Implementations.Bugs;

/// <summary>
/// One seeded historical bug: its switch name (as in a trace's <c>bugs</c> list), where it comes from, what it
/// perturbs, and the length (in steps) of its shortest exposing trace, which the suite's shrinker must reach.
/// <paramref name="Drivers"/> names the drivers whose page tables, driver code or emulated hardware a bug of the
/// hardware layer perturbs (null for a bug of the core): it is only reachable through the IOMMU API and DMA on
/// machines with one of them, which is where the hunt looks for it. <paramref name="Scalable"/>: the bug lives in vtd's
/// scalable mode, so the hunt draws every vtd unit scalable.
/// </summary>
public sealed record SeededBug(string Name, string Origin, string Behaviour, string ShortestTrace, int MinimalSteps,
    IReadOnlyList<string>? Drivers = null, bool Scalable = false);
