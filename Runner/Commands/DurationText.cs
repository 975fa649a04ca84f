using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>--duration</c> values: a positive number with a unit, <c>90s</c>, <c>10m</c>, <c>1.5h</c>, <c>500ms</c>, or
/// parts of them from the largest unit down, <c>1h30m</c>; at most <see cref="Max"/>.
/// </summary>
internal static class DurationText
{
    public const string Format = "a positive duration such as 90s, 10m, 1h30m or 500ms (units h, m, s, ms; at most 7 days)";

    public static readonly TimeSpan Max = TimeSpan.FromDays(7);

    /// <summary>The units, largest first, in seconds: each may appear once, in this order.</summary>
    private static readonly (string Unit, double Seconds)[] Units = [("h", 3600), ("m", 60), ("s", 1), ("ms", 0.001)];

    public static bool TryParse(string text, out TimeSpan duration, [NotNullWhen(false)] out string? problem)
    {
        duration = TimeSpan.Zero;
        var why = TryParseSeconds(text.Trim(), out var seconds) ? null : "not numbers with units in that order";
        if (why is null && seconds <= 0) why = "it must be more than zero";
        else if (why is null && seconds > Max.TotalSeconds) why = "longer than 7 days";
        if (why is null) duration = TimeSpan.FromSeconds(seconds);
        problem = why is null ? null : $"must be {Format}, got '{text}': {why}";
        return why is null;
    }

    private static bool TryParseSeconds(string text, out double seconds)
    {
        seconds = 0;
        var next = 0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (!double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
                return false;
            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            var unit = text[unitStart..i];
            var index = Array.FindIndex(Units, next, u => u.Unit == unit);
            if (index < 0) return false;
            seconds += value * Units[index].Seconds;
            next = index + 1;
        }
        return text.Length > 0;
    }
}
