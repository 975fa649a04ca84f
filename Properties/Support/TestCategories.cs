namespace IommuConformance.Properties.Support;

/// <summary>xunit trait values of the "Category" trait (filter with <c>dotnet test --filter Category=...</c>).</summary>
public static class TestCategories
{
    /// <summary>
    /// Per-seeded-bug property runs (hunts and shrinks of thousands of generated traces). scripts/coverage.sh runs them
    /// in a second `dotnet test` without the coverage collector: under coverlet's hit counters their page-table loops
    /// (1 GiB maps of 4K pages, replayed by the shrinker) cost several times their plain run, and the rest of the suite
    /// covers the code they run (the gate is measured there).
    /// </summary>
    public const string BugHunt = "BugHunt";

    /// <summary>Tests that boot Linux under QEMU (docs/real-kernel.md).</summary>
    public const string Kernel = "Kernel";
}
