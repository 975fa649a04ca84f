using IommuConformance.Implementations.Bugs;

namespace IommuConformance.Harness.Iommu.Traces;

/// <summary>The names a trace's <c>bugs</c> list may use: the implementation's seeded-bug catalogue.</summary>
internal static class KnownBugs
{
    public static readonly IReadOnlyList<string> Names = [.. BugCatalogue.All.Select(b => b.Name)];

    public static bool IsKnown(string name) => Names.Contains(name);
}
