using System.CommandLine;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary><c>bugs</c>: the seeded-bug catalogue: name, length of the shortest exposing trace, origin.</summary>
internal static class BugsCommand
{
    public static Command Create(RunnerIo io)
    {
        var command = new Command("bugs", "list the seeded bugs (name, minimal steps, origin)");
        command.SetAction(_ => Run(io.Output));
        return command;
    }

    private static int Run(TextWriter output)
    {
        var bugs = SeededBugs.All;
        var width = Math.Max("name".Length, bugs.Max(b => b.Name.Length));
        output.WriteLine($"{"name".PadRight(width)}  steps  origin");
        foreach (var bug in bugs)
            output.WriteLine($"{bug.Name.PadRight(width)}  {bug.MinimalSteps,5}  {bug.Origin}");
        output.WriteLine();
        output.WriteLine("shortest exposing traces: traces/bugs/<name>.json; details: docs/seeded-bugs.md");
        return ExitCodes.Conformant;
    }
}
