using System.CommandLine;

namespace IommuConformance.Runner.Commands;

/// <summary><c>help [COMMAND]</c>: the same text as <c>--help</c> (of the root, or of the command named).</summary>
internal static class HelpCommand
{
    public static Command Create(RunnerIo io, RootCommand root)
    {
        var names = root.Subcommands.Select(c => c.Name).Append("help").ToArray();
        var topic = new Argument<string?>("COMMAND")
        {
            Arity = ArgumentArity.ZeroOrOne,
            HelpName = "COMMAND",
            Description = "the command to explain",
        };
        topic.AcceptOnlyFromAmong(names);
        var command = new Command("help", "this text, or a command's (same as --help)") { topic };
        command.SetAction(parse =>
        {
            string[] args = parse.GetValue(topic) is { } name ? [name, "--help"] : ["--help"];
            return root.Parse(args).Invoke(RunnerApp.InvocationFor(io));
        });
        return command;
    }
}
