using IommuConformance.Implementations.Bugs;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>One entry of the seeded-bug catalogue, as the Runner shows it.</summary>
internal sealed record SeededBugInfo(string Name, int MinimalSteps, string Origin);

internal static class SeededBugs
{
    public static IReadOnlyList<SeededBugInfo> All => [.. BugCatalogue.All.Select(b => new SeededBugInfo(b.Name, b.MinimalSteps, b.Origin))];

    public static IReadOnlyList<string> Names => [.. BugCatalogue.All.Select(b => b.Name)];

    /// <summary>The emulator's own bugs, which the command-stream property hunts (no trace reaches them).</summary>
    public static IReadOnlyList<SeededBugInfo> HardwareQueue =>
        [.. BugCatalogue.HardwareQueue.Select(b => new SeededBugInfo(b.Name, b.MinimalSteps, b.Origin))];

    /// <summary>What <c>hunt --bug</c> accepts: every seeded bug.</summary>
    public static IReadOnlyList<string> HuntNames => [.. Names, .. BugCatalogue.HardwareQueue.Select(b => b.Name)];
}
