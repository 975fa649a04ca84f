using IommuConformance.Harness.Core.Checking;
using Xunit;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// <c>IOMMU_SEED</c> and <c>IOMMU_MAX_TEST</c> (read by <c>dotnet test</c> and the Runner): a malformed value is a
/// <see cref="SettingsException"/> naming the variable and the format, never a FormatException or a silent default.
/// </summary>
public sealed class CheckSettingsTests
{
    private static Func<string, string?> Env(string name, string value) => n => n == name ? value : null;

    [Theory]
    [InlineData("7", 7UL, null)]
    [InlineData("7,3", 7UL, 3UL)]
    [InlineData(" 18446744073709551615 , 1 ", ulong.MaxValue, 1UL)]
    public void A_good_replay_string_parses(string text, ulong seed, ulong? gamma)
    {
        Assert.True(CheckSettings.TryParseReplay(text, out var s, out var g, out var problem), problem);
        Assert.Equal(seed, s);
        Assert.Equal(gamma, g);
    }

    [Theory]
    [InlineData("1,2", "GAMMA 2 is even")]
    [InlineData("1,2,3", "3 comma-separated parts")]
    [InlineData("abc", "SEED 'abc' is not an unsigned 64-bit integer")]
    [InlineData(",", "SEED is empty")]
    [InlineData("1,", "GAMMA is empty")]
    [InlineData("", "it is empty")]
    [InlineData("-1", "SEED '-1' is not")]
    [InlineData("18446744073709551616", "is not an unsigned 64-bit integer")]
    public void A_bad_replay_string_says_why_and_the_format(string text, string why)
    {
        Assert.False(CheckSettings.TryParseReplay(text, out _, out _, out var problem));
        Assert.Contains(why, problem);
        Assert.Contains("SEED or SEED,GAMMA (unsigned 64-bit integers, GAMMA odd)", problem);
    }

    [Fact]
    public void A_seed_alone_keeps_the_gamma()
    {
        var settings = new CheckSettings().WithReplay("5");
        Assert.Equal((5UL, new CheckSettings().Gamma), (settings.Seed, settings.Gamma));
    }

    [Fact]
    public void WithReplay_of_a_bad_string_is_a_FormatException_saying_the_format() =>
        Assert.Contains("GAMMA odd", Assert.Throws<FormatException>(() => new CheckSettings().WithReplay("1,2")).Message);

    [Theory]
    [InlineData("1", 1)]
    [InlineData("100000000", 100_000_000)]
    public void A_good_trace_count_parses(string text, int expected)
    {
        Assert.True(CheckSettings.TryParseMaxTest(text, out var max, out _));
        Assert.Equal(expected, max);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("100000001")]
    [InlineData("99999999999")]
    [InlineData("")]
    public void A_bad_trace_count_says_the_range(string text)
    {
        Assert.False(CheckSettings.TryParseMaxTest(text, out _, out var problem));
        Assert.Equal($"must be an integer from 1 to 100000000, got '{text}'", problem);
    }

    [Theory]
    [InlineData(CheckSettings.MaxTestVariable, "-1")]
    [InlineData(CheckSettings.MaxTestVariable, "abc")]
    [InlineData(CheckSettings.MaxTestVariable, "0")]
    [InlineData(CheckSettings.SeedVariable, "garbage")]
    [InlineData(CheckSettings.SeedVariable, "1,2")]
    public void A_bad_environment_variable_is_a_SettingsException_naming_it(string variable, string value)
    {
        var e = Assert.Throws<SettingsException>(() => CheckSettings.FromEnvironment(new CheckSettings(), Env(variable, value)));
        Assert.Equal(variable, e.Setting);
        Assert.StartsWith($"{variable} must be ", e.Message);
        Assert.Contains($"got '{value}'", e.Message);
    }

    [Fact]
    public void Good_environment_variables_override_the_defaults_and_empty_ones_do_not()
    {
        var settings = CheckSettings.FromEnvironment(new CheckSettings(),
            n => n == CheckSettings.SeedVariable ? "9,11" : n == CheckSettings.MaxTestVariable ? "42" : null);
        Assert.Equal((9UL, 11UL, 42), (settings.Seed, settings.Gamma, settings.MaxTest));
        Assert.Equal(new CheckSettings(), CheckSettings.FromEnvironment(new CheckSettings(), _ => ""));
    }
}
