using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace IommuConformance.Harness.Core.Checking;

/// <summary>
/// The knobs of one property run, in one place. Defaults are the suite's default run; the environment
/// variables override them: <c>IOMMU_SEED=seed[,gamma]</c> (replay a run), <c>IOMMU_MAX_TEST=n</c>. A variable
/// that is set but malformed is a <see cref="SettingsException"/> naming it, never a silent default.
/// </summary>
/// <param name="MaxTest">Traces generated (default 1000; <see cref="MinMaxTest"/> to <see cref="MaxMaxTest"/>).</param>
/// <param name="EndSize">FsCheck size reached by the last trace; lengths scale with it (default 100).</param>
/// <param name="Seed">FsCheck random seed (default fixed, so CI runs are reproducible).</param>
/// <param name="Gamma">FsCheck random gamma; odd (default fixed).</param>
public sealed record CheckSettings(int MaxTest = 1000, int EndSize = 100, ulong Seed = 20261122UL, ulong Gamma = 0x9E3779B97F4A7C15UL)
{
    public const string SeedVariable = "IOMMU_SEED";
    public const string MaxTestVariable = "IOMMU_MAX_TEST";

    /// <summary>The fewest traces a run may ask for: zero would be a vacuous success.</summary>
    public const int MinMaxTest = 1;

    /// <summary>The most traces a run may ask for (hours of work; a typo beyond it is caught).</summary>
    public const int MaxMaxTest = 100_000_000;

    /// <summary>What a replay string looks like, for messages and help.</summary>
    public const string ReplayFormat = "SEED or SEED,GAMMA (unsigned 64-bit integers, GAMMA odd)";

    /// <summary>What a trace count looks like, for messages and help.</summary>
    public static readonly string MaxTestFormat =
        $"an integer from {MinMaxTest} to {MaxMaxTest.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The default run, with the environment's overrides; throws <see cref="SettingsException"/> on a bad one.</summary>
    public static CheckSettings Default => FromEnvironment(new CheckSettings());

    /// <summary>The FsCheck replay string: <c>seed,gamma</c>.</summary>
    public string Replay => $"{Seed},{Gamma}";

    /// <summary>
    /// Parses a replay string <c>SEED</c> or <c>SEED,GAMMA</c> (decimal unsigned 64-bit, GAMMA odd as FsCheck needs).
    /// On failure <paramref name="problem"/> reads as the rest of a sentence whose subject is the option or
    /// variable: <c>must be SEED or SEED,GAMMA (...), got '1,2': GAMMA 2 is even</c>.
    /// </summary>
    public static bool TryParseReplay(string text, out ulong seed, out ulong? gamma, [NotNullWhen(false)] out string? problem)
    {
        seed = 0;
        gamma = null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        string? why = null;
        if (text.Trim().Length == 0) why = "it is empty";
        else if (parts.Length > 2) why = $"{parts.Length} comma-separated parts";
        else if (!TryParseUnsigned(parts[0], out seed)) why = NotUnsigned("SEED", parts[0]);
        else if (parts.Length == 2)
        {
            if (!TryParseUnsigned(parts[1], out var g)) why = NotUnsigned("GAMMA", parts[1]);
            else if (g % 2 == 0) why = $"GAMMA {g} is even";
            else gamma = g;
        }
        problem = why is null ? null : $"must be {ReplayFormat}, got '{text}': {why}";
        return why is null;
    }

    /// <summary>These settings with the seed (and gamma, when given) of a replay string, or why it is malformed.</summary>
    public bool TryWithReplay(string replay, out CheckSettings settings, [NotNullWhen(false)] out string? problem)
    {
        if (!TryParseReplay(replay, out var seed, out var gamma, out problem))
        {
            settings = this;
            return false;
        }
        settings = this with { Seed = seed, Gamma = gamma ?? Gamma };
        return true;
    }

    /// <summary>These settings with the seed (and gamma, when given) of a replay string; <see cref="FormatException"/> if malformed.</summary>
    public CheckSettings WithReplay(string replay) =>
        TryWithReplay(replay, out var settings, out var problem) ? settings : throw new FormatException($"replay string {problem}");

    /// <summary>Parses a trace count, <see cref="MinMaxTest"/> to <see cref="MaxMaxTest"/>; <paramref name="problem"/> as for <see cref="TryParseReplay"/>.</summary>
    public static bool TryParseMaxTest(string text, out int maxTest, [NotNullWhen(false)] out string? problem)
    {
        var ok = int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out maxTest)
            && maxTest is >= MinMaxTest and <= MaxMaxTest;
        problem = ok ? null : $"must be {MaxTestFormat}, got '{text}'";
        return ok;
    }

    /// <summary>The defaults with the process environment's overrides.</summary>
    public static CheckSettings FromEnvironment(CheckSettings defaults) => FromEnvironment(defaults, Environment.GetEnvironmentVariable);

    /// <summary>
    /// The defaults with the overrides of <paramref name="environment"/> (a variable's value, or null when unset).
    /// An empty variable counts as unset; a malformed one throws <see cref="SettingsException"/> naming it.
    /// </summary>
    public static CheckSettings FromEnvironment(CheckSettings defaults, Func<string, string?> environment)
    {
        var settings = defaults;
        if (environment(SeedVariable) is { Length: > 0 } seed && !settings.TryWithReplay(seed, out settings, out var seedProblem))
            throw new SettingsException(SeedVariable, $"{SeedVariable} {seedProblem}");
        if (environment(MaxTestVariable) is { Length: > 0 } max)
        {
            if (!TryParseMaxTest(max, out var maxTest, out var maxProblem))
                throw new SettingsException(MaxTestVariable, $"{MaxTestVariable} {maxProblem}");
            settings = settings with { MaxTest = maxTest };
        }
        return settings;
    }

    private static bool TryParseUnsigned(string text, out ulong value) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static string NotUnsigned(string what, string text) =>
        text.Length == 0 ? $"{what} is empty" : $"{what} '{text}' is not an unsigned 64-bit integer";
}

/// <summary>A setting from the environment (or a command line) that cannot be used; the message names it and says the format.</summary>
public sealed class SettingsException(string setting, string message) : Exception(message)
{
    /// <summary>The variable or option at fault, e.g. <c>IOMMU_SEED</c>.</summary>
    public string Setting { get; } = setting;
}
