using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>--duration</c> values: a positive number with a unit, <c>90s</c>, <c>10m</c>, <c>1.5h</c>, <c>500ms</c>, or
/// parts of them in order, <c>1h30m</c>; at most <see cref="Max"/>.
/// </summary>
internal static partial class DurationText
{
    public const string Format = "a positive duration such as 90s, 10m, 1h30m or 500ms (units ms, s, m, h; at most 7 days)";

    public static readonly TimeSpan Max = TimeSpan.FromDays(7);

    [GeneratedRegex(@"^(?:(?<h>\d+(?:\.\d+)?)h)?(?:(?<m>\d+(?:\.\d+)?)m(?!s))?(?:(?<s>\d+(?:\.\d+)?)s)?(?:(?<ms>\d+(?:\.\d+)?)ms)?$")]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out TimeSpan duration, [NotNullWhen(false)] out string? problem)
    {
        duration = TimeSpan.Zero;
        var match = Pattern().Match(text.Trim());
        string? why = null;
        if (text.Trim().Length == 0 || !match.Success) why = "not a number with a unit";
        else
        {
            var seconds = Part(match, "h") * 3600 + Part(match, "m") * 60 + Part(match, "s") + Part(match, "ms") / 1000;
            if (seconds <= 0) why = "it must be more than zero";
            else if (seconds > Max.TotalSeconds) why = "longer than 7 days";
            else duration = TimeSpan.FromSeconds(seconds);
        }
        problem = why is null ? null : $"must be {Format}, got '{text}': {why}";
        return why is null;
    }

    private static double Part(Match match, string group) =>
        match.Groups[group].Success ? double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
}
