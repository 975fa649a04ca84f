using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// Bad options, values, variables and commands: each is one line on stderr naming what is wrong, exit 64, and no
/// work (nothing on stdout) — never a stack trace, a hang, or a vacuous success.
/// </summary>
public sealed class UsageErrorTests
{
    public static TheoryData<string> RunCommands => new() { "campaign", "hunt" };

    [Theory]
    [InlineData("campaign", "-5")]
    [InlineData("campaign", "0")]
    [InlineData("campaign", "abc")]
    [InlineData("campaign", "100000001")]
    [InlineData("campaign", "99999999999")]
    [InlineData("hunt", "-5")]
    [InlineData("hunt", "0")]
    [InlineData("hunt", "abc")]
    public void A_bad_max_test_names_the_option_and_the_range(string command, string value) =>
        Run(command, "--max-test", value).AssertUsageError("--max-test", "from 1 to 100000000", $"'{value}'");

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("0")]
    public void A_bad_IOMMU_MAX_TEST_names_the_variable(string value)
    {
        foreach (var command in new[] { "campaign", "hunt" })
            Run(With("IOMMU_MAX_TEST", value), command).AssertUsageError("IOMMU_MAX_TEST", "from 1 to 100000000", $"'{value}'");
    }

    [Theory]
    [InlineData("1,2", "GAMMA 2 is even")]
    [InlineData("1,2,3", "3 comma-separated parts")]
    [InlineData("abc", "SEED 'abc' is not an unsigned 64-bit integer")]
    [InlineData(",", "SEED is empty")]
    [InlineData("", "it is empty")]
    public void A_bad_seed_names_the_option_and_the_format(string value, string why)
    {
        foreach (var command in new[] { "campaign", "hunt" })
            Run(command, "--seed", value).AssertUsageError("--seed", "SEED or SEED,GAMMA", "unsigned 64-bit", "GAMMA odd", why);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("1,2")]
    public void A_bad_IOMMU_SEED_names_the_variable_and_the_format(string value)
    {
        foreach (var command in new[] { "campaign", "hunt" })
            Run(With("IOMMU_SEED", value), command).AssertUsageError("IOMMU_SEED", "SEED or SEED,GAMMA", "GAMMA odd", $"'{value}'");
    }

    [Theory]
    [MemberData(nameof(RunCommands))]
    public void A_value_missing_names_the_option(string command)
    {
        foreach (var option in new[] { "--max-test", "--seed", "--bug", "--out" })
            Run(command, option).AssertUsageError("Required argument missing", option);
    }

    [Fact]
    public void A_repeated_single_valued_option_names_it() =>
        Run("campaign", "--max-test", "5", "--max-test", "6").AssertUsageError("--max-test");

    [Theory]
    [InlineData("campaign", "--nope")]
    [InlineData("hunt", "--max-tests")]
    [InlineData("bugs", "--nope")]
    [InlineData("bugs", "extra")]
    [InlineData("replay", "--nope")]
    public void An_unknown_option_or_argument_is_named(string command, string token) =>
        Run(command, token).AssertUsageError($"'{token}'");

    [Fact]
    public void An_unknown_command_is_named_with_the_known_ones() =>
        Run("nope").AssertUsageError("'nope'", "campaign, hunt, replay, bugs, merge, report, help");

    [Fact]
    public void No_command_is_a_usage_error_listing_the_commands() =>
        Run().AssertUsageError("no command", "campaign, hunt, replay, bugs, merge, report, help");

    [Fact]
    public void Replay_without_a_file_is_a_usage_error() =>
        Run("replay").AssertUsageError("Required argument missing", "replay");

    [Fact]
    public void Help_on_an_unknown_command_names_it() =>
        Run("help", "nope").AssertUsageError("'nope'");
}
