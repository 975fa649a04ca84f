namespace IommuConformance.Runner.Commands;

/// <summary>
/// The sub-commands, by name. To add one (campaign, hunt, ...), write Commands/XCommand.cs with a
/// <see cref="Command"/> and list it in <see cref="All"/>.
/// </summary>
public static class CommandTable
{
    public static readonly IReadOnlyList<Command> All =
    [
        CampaignCommand.Command,
        ReplayCommand.Command,
        HuntCommand.Command,
        BugsCommand.Command,
        HelpCommand.Command,
    ];

    public static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        if (args.Length == 0) return HelpCommand.Command.Run([], output, errors);
        var name = args[0];
        if (name is "-h" or "--help") name = HelpCommand.Command.Name;
        var command = All.FirstOrDefault(c => c.Name == name);
        if (command is null)
        {
            errors.WriteLine($"unknown command \"{args[0]}\"");
            HelpCommand.Command.Run([], errors, errors);
            return ExitCodes.Usage;
        }
        return command.Run(args[1..], output, errors);
    }
}
