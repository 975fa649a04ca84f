using IommuConformance.Runner.Commands;
using IommuConformance.Runner.Progress;
using Xunit;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>The plain progress line and its ETA, and when the live display is used.</summary>
public sealed class ProgressTests
{
    [Fact]
    public void The_plain_line_has_cases_steps_rate_failures_and_eta()
    {
        var info = new ProgressInfo("traces", 250, 1000, 250, 10_000, 2, TimeSpan.FromSeconds(5), null);
        Assert.Equal("progress: 250/1,000 traces, 10,000 steps, 2,000 steps/s, 2 failures, 5.0 s, ETA 15.0 s", info.Line());
    }

    [Fact]
    public void A_time_box_gives_the_eta_by_the_clock_and_the_sooner_box_wins()
    {
        Assert.Equal(TimeSpan.FromSeconds(55), new ProgressInfo("traces", 10, null, 10, 1, 0, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1)).Eta);
        Assert.Equal(TimeSpan.FromSeconds(5), new ProgressInfo("traces", 10, 20, 10, 1, 0, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1)).Eta);
        Assert.Null(new ProgressInfo("traces", 0, null, 0, 0, 0, TimeSpan.Zero, null).Eta);
    }

    [Fact]
    public void A_hunt_line_counts_bugs_and_traces()
    {
        var info = new ProgressInfo("bugs", 3, 11, 400, 4000, 3, TimeSpan.FromSeconds(2), null);
        Assert.StartsWith("progress: 3/11 bugs, 400 traces, 4,000 steps", info.Line());
    }

    [Fact]
    public void A_writer_that_is_not_the_console_gets_plain_lines() => Assert.False(ProgressDisplay.IsLive(new StringWriter()));

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("1.5h", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("2m30s", 150)]
    public void Durations_parse(string text, double seconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration, out _));
        Assert.Equal(seconds, duration.TotalSeconds, 6);
    }
}
