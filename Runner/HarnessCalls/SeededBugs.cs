using IommuConformance.Implementations.Bugs;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>One entry of the seeded-bug catalogue, as the Runner shows it.</summary>
internal sealed record SeededBugInfo(string Name, int MinimalSteps, string Origin);

internal static class SeededBugs
{
    public static IReadOnlyList<SeededBugInfo> All => [.. BugCatalogue.All.Select(b => new SeededBugInfo(b.Name, b.MinimalSteps, b.Origin))];

    public static IReadOnlyList<string> Names => [.. BugCatalogue.All.Select(b => b.Name)];
}
