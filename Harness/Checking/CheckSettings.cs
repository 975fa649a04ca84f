using System.Globalization;

namespace IommuConformance.Harness.Checking;

/// <summary>
/// The knobs of one property run, in one place. Defaults are the suite's default run; the environment
/// variables override them: <c>IOMMU_SEED=seed,gamma</c> (replay a run), <c>IOMMU_MAX_TEST=n</c>.
/// </summary>
/// <param name="MaxTest">Traces generated (default 1000).</param>
/// <param name="EndSize">FsCheck size reached by the last trace; lengths scale with it (default 100).</param>
/// <param name="Seed">FsCheck random seed (default fixed, so CI runs are reproducible).</param>
/// <param name="Gamma">FsCheck random gamma; odd (default fixed).</param>
public sealed record CheckSettings(int MaxTest = 1000, int EndSize = 100, ulong Seed = 20261122UL, ulong Gamma = 0x9E3779B97F4A7C15UL)
{
    public const string SeedVariable = "IOMMU_SEED";
    public const string MaxTestVariable = "IOMMU_MAX_TEST";

    /// <summary>The default run, with the environment's overrides.</summary>
    public static CheckSettings Default => FromEnvironment(new CheckSettings());

    /// <summary>The FsCheck replay string: <c>seed,gamma</c>.</summary>
    public string Replay => $"{Seed},{Gamma}";

    /// <summary>These settings with the seed (and gamma, when given) of a <c>seed,gamma</c> replay string.</summary>
    public CheckSettings WithReplay(string replay)
    {
        var parts = replay.Split(',', StringSplitOptions.TrimEntries);
        return this with
        {
            Seed = ulong.Parse(parts[0], CultureInfo.InvariantCulture),
            Gamma = parts.Length > 1 ? ulong.Parse(parts[1], CultureInfo.InvariantCulture) : Gamma,
        };
    }

    public static CheckSettings FromEnvironment(CheckSettings defaults)
    {
        var settings = defaults;
        if (Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } seed)
            settings = settings.WithReplay(seed);
        if (Environment.GetEnvironmentVariable(MaxTestVariable) is { Length: > 0 } max)
            settings = settings with { MaxTest = int.Parse(max, CultureInfo.InvariantCulture) };
        return settings;
    }
}
