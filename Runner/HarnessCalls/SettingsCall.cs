using System.Diagnostics.CodeAnalysis;
using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>The run settings: parsing and validating <c>--max-test</c> and <c>--seed</c>, and the environment's defaults.</summary>
internal static class SettingsCall
{
    public const string SeedVariable = CheckSettings.SeedVariable;
    public const string MaxTestVariable = CheckSettings.MaxTestVariable;
    public const string ReplayFormat = CheckSettings.ReplayFormat;
    public static string MaxTestFormat => CheckSettings.MaxTestFormat;

    /// <summary>The property run's default trace count (hunt's default).</summary>
    public static int DefaultMaxTest => new CheckSettings().MaxTest;

    /// <inheritdoc cref="CheckSettings.TryParseMaxTest"/>
    public static bool TryParseMaxTest(string text, out int maxTest, [NotNullWhen(false)] out string? problem) =>
        CheckSettings.TryParseMaxTest(text, out maxTest, out problem);

    /// <summary>Whether <paramref name="text"/> is a good <c>SEED[,GAMMA]</c>; if not, why (the rest of a sentence).</summary>
    public static bool TryParseReplay(string text, [NotNullWhen(false)] out string? problem) =>
        CheckSettings.TryParseReplay(text, out _, out _, out problem);

    /// <summary>
    /// The default settings with <paramref name="maxTest"/> traces, overridden by the environment's variables, then by the
    /// command line's values. Throws <see cref="SettingsException"/> naming a malformed variable.
    /// </summary>
    public static CheckSettings Resolve(int maxTest, Func<string, string?> environment, int? maxTestOption, string? seedOption)
    {
        var settings = CheckSettings.FromEnvironment(new CheckSettings(MaxTest: maxTest), environment);
        if (maxTestOption is { } n) settings = settings with { MaxTest = n };
        if (seedOption is { } seed) settings = settings.WithReplay(seed);
        return settings;
    }

    public static bool IsSettingsError(Exception e) => e is SettingsException;
}
