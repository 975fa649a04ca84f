using IommuConformance.Implementations.Bugs;

namespace IommuConformance.Runner.Commands;

/// <summary><c>bugs</c>: the seeded-bug catalogue: name, length of the shortest exposing trace, origin.</summary>
public static class BugsCommand
{
    public static readonly Command Command = new("bugs", "bugs", "list the seeded bugs (name, minimal steps, origin)", Run);

    private static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        var bugs = BugCatalogue.All;
        var width = Math.Max("name".Length, bugs.Max(b => b.Name.Length));
        output.WriteLine($"{"name".PadRight(width)}  steps  origin");
        foreach (var bug in bugs)
            output.WriteLine($"{bug.Name.PadRight(width)}  {bug.MinimalSteps,5}  {bug.Origin}");
        output.WriteLine();
        output.WriteLine("shortest exposing traces: traces/bugs/<name>.json; details: docs/seeded-bugs.md");
        return ExitCodes.Conformant;
    }
}
