using System.CommandLine;
using System.CommandLine.Parsing;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>What <c>campaign</c> and <c>hunt</c> were asked to do, once every option and variable is checked.</summary>
internal sealed record RunRequest(CheckSettings Settings, IReadOnlyList<string> Bugs, string Out);

/// <summary>
/// The options shared by <c>campaign</c> and <c>hunt</c>: <c>--max-test N</c>, <c>--seed SEED[,GAMMA]</c>,
/// <c>--bug NAME</c> (repeatable), <c>--out DIR</c>. Values are checked while parsing, so a bad one is a usage error
/// naming the option before anything runs or is written.
/// </summary>
internal sealed class RunOptions
{
    private readonly int _defaultMaxTest;

    /// <param name="knownBugs">What <c>--bug</c> accepts (default: the trace bugs).</param>
    public RunOptions(int defaultMaxTest, IReadOnlyList<string>? knownBugs = null)
    {
        _defaultMaxTest = defaultMaxTest;
        MaxTest = new Option<int?>("--max-test")
        {
            HelpName = "N",
            Description = $"traces to generate, {SettingsCall.MaxTestFormat} (default {defaultMaxTest}, or {SettingsCall.MaxTestVariable})",
            CustomParser = ParseMaxTest,
        };
        Seed = new Option<string?>("--seed")
        {
            HelpName = "SEED[,GAMMA]",
            Description = $"FsCheck seed to replay a run: {SettingsCall.ReplayFormat} (default fixed, or {SettingsCall.SeedVariable})",
        };
        Seed.Validators.Add(ValidateSeed);
        Bugs = BugOption.Create("switch a seeded bug on (repeatable); 'bugs' lists them", knownBugs);
        Out = new Option<string>("--out")
        {
            HelpName = "DIR",
            Description = "directory for the report and failures/ (created if missing; must be writable)",
            DefaultValueFactory = _ => "reports",
        };
    }

    public Option<int?> MaxTest { get; }
    public Option<string?> Seed { get; }
    public Option<string[]> Bugs { get; }
    public Option<string> Out { get; }

    public void AddTo(Command command)
    {
        command.Options.Add(MaxTest);
        command.Options.Add(Seed);
        command.Options.Add(Bugs);
        command.Options.Add(Out);
    }

    /// <summary>
    /// The request, after the checks that need the environment or the file system (<c>IOMMU_SEED</c>,
    /// <c>IOMMU_MAX_TEST</c>, <c>--out</c>); on a failure writes the usage error and answers null.
    /// </summary>
    public RunRequest? Resolve(ParseResult parse, RunnerIo io, IReadOnlyList<string> reportFiles, out int exitCode)
    {
        exitCode = ExitCodes.Usage;
        CheckSettings settings;
        try
        {
            settings = SettingsCall.Resolve(_defaultMaxTest, io.Environment, parse.GetValue(MaxTest), parse.GetValue(Seed));
        }
        catch (Exception e) when (SettingsCall.IsSettingsError(e))
        {
            io.Usage(e.Message);
            return null;
        }
        var dir = parse.GetValue(Out) ?? "reports";
        if (!OutDirectory.TryPrepare(dir, reportFiles, out var problem))
        {
            io.Usage(problem);
            return null;
        }
        exitCode = ExitCodes.Conformant;
        return new RunRequest(settings, parse.GetValue(Bugs) ?? [], dir);
    }

    private static int? ParseMaxTest(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (SettingsCall.TryParseMaxTest(text, out var maxTest, out var problem)) return maxTest;
        result.AddError($"--max-test {problem}");
        return null;
    }

    private static void ValidateSeed(OptionResult result)
    {
        foreach (var token in result.Tokens)
            if (!SettingsCall.TryParseReplay(token.Value, out var problem))
                result.AddError($"--seed {problem}");
    }
}
