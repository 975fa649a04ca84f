using IommuConformance.Runner.Commands;
using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>Help everywhere, completions through System.CommandLine's [suggest] directive, and how an internal error reads.</summary>
public sealed class HelpAndErrorTextTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void Help_lists_every_command_and_the_exit_codes(string asked)
    {
        var run = Run(asked);
        Assert.Equal(0, run.Code);
        foreach (var command in new[] { "campaign", "hunt", "replay", "bugs", "help" }) Assert.Contains(command, run.Output);
        Assert.Contains("64 bad command line", run.Output);
        Assert.Equal("", run.Errors);
    }

    [Theory]
    [InlineData("campaign", "--help")]
    [InlineData("hunt", "--help")]
    [InlineData("help", "campaign")]
    public void A_command_s_help_gives_each_option_s_range(string first, string second)
    {
        var run = Run(first, second);
        Assert.Equal(0, run.Code);
        Assert.Contains("--max-test <N>", run.Output);
        Assert.Contains("from 1 to 100000000", run.Output);
        Assert.Contains("SEED or SEED,GAMMA (unsigned 64-bit integers, GAMMA odd)", run.Output);
        Assert.Contains("--bug <NAME>", run.Output);
        Assert.Contains("--out <DIR>", run.Output);
    }

    [Fact]
    public void Bug_names_complete()
    {
        var run = Run("[suggest:16]", "campaign --bug f");
        Assert.Equal(0, run.Code);
        Assert.Contains("fresh_domain_einval", run.Output);
        Assert.DoesNotContain("no_owner_gatekeeper", run.Output);
    }

    [Fact]
    public void Bugs_lists_the_catalogue() =>
        Assert.Contains("fresh_domain_einval", Run("bugs").Output);

    [Fact]
    public void An_internal_error_is_one_line_with_its_type_and_no_stack_trace()
    {
        var errors = new StringWriter();
        var io = new RunnerIo(TextWriter.Null, errors, NoVariables);
        Assert.Equal(ExitCodes.InternalError, io.InternalError("while replaying x.json", Thrown()));
        var line = Assert.Single(errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("internal error while replaying x.json: System.InvalidOperationException: two lines", line);
        Assert.Contains("IOMMU_DEBUG=1", line);
    }

    [Fact]
    public void IOMMU_DEBUG_adds_the_stack_trace()
    {
        var errors = new StringWriter();
        var io = new RunnerIo(TextWriter.Null, errors, With(RunnerIo.DebugVariable, "1"));
        Assert.Equal(ExitCodes.InternalError, io.InternalError("", Thrown()));
        Assert.StartsWith("internal error: System.InvalidOperationException", errors.ToString());
        Assert.Contains("   at ", errors.ToString());
    }

    private static Exception Thrown()
    {
        try
        {
            throw new InvalidOperationException("two lines\nof message");
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }
}
