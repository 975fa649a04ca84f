namespace IommuConformance.Runner.Commands;

/// <summary><c>bugs</c>: the seeded-bug catalogue: name, length of the shortest exposing trace, origin.</summary>
public static class BugsCommand
{
    public static readonly Command Command = new("bugs", "bugs", "list the seeded bugs (name, minimal steps, origin)", Run);

    private static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        // TODO(harness): list IommuConformance.Implementations.Bugs.BugCatalogue.All once it lands.
        errors.WriteLine("the seeded-bug catalogue is not available in this build");
        return ExitCodes.InternalError;
    }
}
