namespace IommuConformance.Harness.Traces;

/// <summary>
/// The names a trace's <c>bugs</c> list may use. The one place that knows where the catalogue lives.
/// </summary>
internal static class KnownBugs
{
    // TODO(harness): read IommuConformance.Implementations.Bugs.BugCatalogue.All once it lands on this branch.
    public static readonly IReadOnlyList<string> Names = [];

    /// <summary>Until the catalogue lands every name passes; IommuSystem.Create still refuses unknown ones.</summary>
    public static bool IsKnown(string name) => Names.Count == 0 || Names.Contains(name);
}
