using System.Globalization;

namespace IommuConformance.Runner.Progress;

/// <summary>
/// Where a long command is: <see cref="Done"/> of <see cref="Total"/> units (traces of a campaign, bugs of a hunt;
/// total null when boxed by time), the traces and steps run, the failures found, the time so far and, when known,
/// the time box.
/// </summary>
internal sealed record ProgressInfo(string Unit, long Done, long? Total, long Traces, long Steps, long Failures, TimeSpan Elapsed, TimeSpan? Box)
{
    public double StepsPerSecond => Steps / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Remaining time: by the rate so far for a count, by the box for a time; the sooner of the two.</summary>
    public TimeSpan? Eta
    {
        get
        {
            TimeSpan? byCount = Total is { } total && Done > 0
                ? TimeSpan.FromSeconds(Elapsed.TotalSeconds * Math.Max(total - Done, 0) / Done) : null;
            TimeSpan? byTime = Box is { } box ? (box > Elapsed ? box - Elapsed : TimeSpan.Zero) : null;
            return (byCount, byTime) switch
            {
                ({ } a, { } b) => a < b ? a : b,
                ({ } a, null) => a,
                (null, { } b) => b,
                _ => null,
            };
        }
    }

    /// <summary>
    /// The plain line (CI logs): <c>progress: 1200/10000 traces, 41230 steps, 52000 steps/s, 0 failures, 7.3 s, ETA 53 s</c>.
    /// </summary>
    public string Line()
    {
        var done = Total is { } t ? $"{N(Done)}/{N(t)} {Unit}" : $"{N(Done)} {Unit}";
        var traces = Unit == "traces" ? "" : $", {N(Traces)} traces";
        return $"progress: {done}{traces}, {N(Steps)} steps, {N((long)StepsPerSecond)} steps/s, {N(Failures)} failures, "
            + $"{Seconds(Elapsed)}" + (Eta is { } eta ? $", ETA {Seconds(eta)}" : "");
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan t) =>
        t.TotalSeconds < 60 ? $"{t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s" : t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture);
}
