using System.CommandLine;
using System.CommandLine.Parsing;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary><c>--bug NAME</c> (repeatable), checked against the catalogue while parsing: an unknown name is a usage error.</summary>
internal static class BugOption
{
    public static Option<string[]> Create(string description)
    {
        var option = new Option<string[]>("--bug")
        {
            HelpName = "NAME",
            Description = description,
            AllowMultipleArgumentsPerToken = false,
        };
        option.Validators.Add(Validate);
        option.CompletionSources.Add([.. SeededBugs.Names]);
        return option;
    }

    private static void Validate(OptionResult result)
    {
        var known = SeededBugs.Names;
        foreach (var token in result.Tokens)
            if (!known.Contains(token.Value))
                result.AddError($"--bug: no seeded bug '{token.Value}'; known: {string.Join(", ", known)}");
    }
}
