namespace IommuConformance.Runner.Commands;

/// <summary><c>help</c>: the commands and the exit codes.</summary>
public static class HelpCommand
{
    public static readonly Command Command = new("help", "help", "this text", Run);

    private static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        output.WriteLine("IommuConformance: conformance of the emulated Linux IOMMU core against its reference model.");
        output.WriteLine();
        output.WriteLine("usage: dotnet run --project Runner -- <command> [arguments]");
        output.WriteLine();
        var width = CommandTable.All.Max(c => c.Usage.Length);
        foreach (var command in CommandTable.All)
            output.WriteLine($"  {command.Usage.PadRight(width)}  {command.Summary}");
        output.WriteLine();
        output.WriteLine("exit codes: 0 conformant, 1 diverged, 2 expect mismatch, 3 malformed trace,");
        output.WriteLine("            4 internal error of the suite, 64 bad command line; several traces: the highest.");
        output.WriteLine("trace format: docs/trace-format.md");
        return ExitCodes.Conformant;
    }
}
