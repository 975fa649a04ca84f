using System.CommandLine;
using System.CommandLine.Parsing;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>--bug NAME</c> (repeatable), checked while parsing against the names the command can switch on (the trace
/// bugs; for <c>hunt</c> the hardware-queue bugs too): an unknown name is a usage error.
/// </summary>
internal static class BugOption
{
    public static Option<string[]> Create(string description, IReadOnlyList<string>? known = null)
    {
        known ??= SeededBugs.Names;
        var option = new Option<string[]>("--bug")
        {
            HelpName = "NAME",
            Description = description,
            AllowMultipleArgumentsPerToken = false,
        };
        option.Validators.Add(result => Validate(result, known));
        option.CompletionSources.Add([.. known]);
        return option;
    }

    private static void Validate(OptionResult result, IReadOnlyList<string> known)
    {
        foreach (var token in result.Tokens)
            if (!known.Contains(token.Value))
                result.AddError($"--bug: no seeded bug '{token.Value}'; known: {string.Join(", ", known)}");
    }
}
