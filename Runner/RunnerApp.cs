using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using IommuConformance.Runner.Commands;

namespace IommuConformance.Runner;

/// <summary>
/// The IommuConformance command line on System.CommandLine: <c>campaign</c>, <c>hunt</c>, <c>replay</c>, <c>bugs</c>,
/// <c>help</c>, and <c>--help</c> everywhere. Every bad input is one line on the error writer and a non-zero exit
/// (<see cref="ExitCodes"/>); no stack trace unless <c>IOMMU_DEBUG=1</c>.
/// </summary>
public static class RunnerApp
{
    private const string Description =
        "IommuConformance: conformance of the emulated Linux IOMMU core against its reference model.\n"
        + "Run as: dotnet run --project Runner -c Release -- <command> [options]\n"
        + "Exit codes: 0 conformant, 1 diverged, 2 expect mismatch, 3 malformed trace, 4 internal error of the suite,\n"
        + "64 bad command line; with several traces the highest. Trace format: docs/trace-format.md";

    /// <summary>
    /// Parses and runs one command line, writing to <paramref name="output"/> and <paramref name="error"/>, reading
    /// variables (<c>IOMMU_SEED</c>, <c>IOMMU_MAX_TEST</c>, <c>IOMMU_DEBUG</c>) through <paramref name="environment"/>
    /// (the process environment when null); answers the exit code.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, Func<string, string?>? environment = null)
    {
        var io = new RunnerIo(output, error, environment ?? Environment.GetEnvironmentVariable);
        try
        {
            var root = CreateRoot(io);
            var parse = root.Parse(args);
            if (parse.Action is ParseErrorAction)
            {
                var commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
                foreach (var e in parse.Errors)
                    io.Usage(e.SymbolResult is CommandResult { Command: RootCommand } ? $"{e.Message} Commands: {commands}." : e.Message);
                return ExitCodes.Usage;
            }
            return parse.Invoke(InvocationFor(io));
        }
        catch (Exception e)
        {
            return io.InternalError("", e);
        }
    }

    /// <summary>Invocation with the given writers, exceptions left to <see cref="Run"/>, and the OS's own Ctrl+C.</summary>
    internal static InvocationConfiguration InvocationFor(RunnerIo io) => new()
    {
        Output = io.Output,
        Error = io.Error,
        EnableDefaultExceptionHandler = false,
        ProcessTerminationTimeout = null,
    };

    private static RootCommand CreateRoot(RunnerIo io)
    {
        var root = new RootCommand(Description)
        {
            CampaignCommand.Create(io),
            HuntCommand.Create(io),
            ReplayCommand.Create(io),
            BugsCommand.Create(io),
            MergeCommand.Create(io),
            ReportCommand.Create(io),
        };
        root.Subcommands.Add(HelpCommand.Create(io, root));
        root.Subcommands.Add(KernelCampaignCommand.Create(io)); // docs/real-kernel.md
        var commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
        root.SetAction(_ => io.Usage($"no command given; commands: {commands} (see --help)"));
        return root;
    }
}
