namespace IommuConformance.Implementations.Bugs;

/// <summary>
/// One seeded historical bug: its switch name (as in a trace's <c>bugs</c> list), where it comes from, what it
/// perturbs, and the length (in steps) of its shortest exposing trace, which the suite's shrinker must reach.
/// </summary>
public sealed record SeededBug(string Name, string Origin, string Behaviour, string ShortestTrace, int MinimalSteps);
