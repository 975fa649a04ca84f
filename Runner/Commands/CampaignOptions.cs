using System.Collections.Immutable;
using System.Globalization;
using IommuConformance.Harness.Checking;

namespace IommuConformance.Runner.Commands;

/// <summary>The options shared by <c>campaign</c> and <c>hunt</c>; defaults are those of <see cref="CheckSettings.Default"/>.</summary>
public sealed record CampaignOptions(CheckSettings Settings, ImmutableArray<string> Bugs, string Out)
{
    /// <summary>Parses the options; on a bad one writes why to <paramref name="errors"/> and answers false.</summary>
    public static bool TryParse(string[] args, TextWriter errors, out CampaignOptions options, int? defaultMaxTest = null)
    {
        try
        {
            options = Parse(args, defaultMaxTest);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            errors.WriteLine(e.Message);
            options = new CampaignOptions(CheckSettings.Default, [], "reports");
            return false;
        }
    }

    /// <summary>A campaign's default length: ten times a property run (a few seconds on two cores).</summary>
    public const int DefaultCampaignTraces = 10_000;

    public static CampaignOptions Parse(string[] args, int? defaultMaxTest = null)
    {
        var settings = CheckSettings.Default;
        if (defaultMaxTest is { } max && Environment.GetEnvironmentVariable(CheckSettings.MaxTestVariable) is null or "")
            settings = settings with { MaxTest = max };
        var bugs = ImmutableArray.CreateBuilder<string>();
        var output = "reports";
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--max-test": settings = settings with { MaxTest = int.Parse(value, CultureInfo.InvariantCulture) }; break;
                case "--seed": settings = settings.WithReplay(value); break;
                case "--bug": bugs.Add(value); break;
                case "--out": output = value; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
            i++;
        }
        return new CampaignOptions(settings, bugs.ToImmutable(), output);
    }
}
