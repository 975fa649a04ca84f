using System.Text.Json.Nodes;
using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// <c>campaign --duration D</c>: a time box, alone or with <c>--max-test</c> (whichever ends first). The time box
/// itself is tested on a fake clock (HarnessTests/CampaignTests); here the parsing and the count box winning.
/// </summary>
public sealed class CampaignBoxTests : IDisposable
{
    private readonly string _out = TempPath("box");

    public void Dispose()
    {
        if (Directory.Exists(_out)) Directory.Delete(_out, recursive: true);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("0s")]
    [InlineData("0")]
    [InlineData("10")]
    [InlineData("abc")]
    [InlineData("8d")]
    [InlineData("200h")]
    [InlineData("m")]
    public void A_bad_duration_is_a_usage_error_and_writes_nothing(string value)
    {
        var run = Run("campaign", "--duration", value, "--out", _out);
        run.AssertUsageError("--duration");
        Assert.False(Directory.Exists(_out));
    }

    [Fact]
    public void With_a_count_and_a_long_duration_the_count_ends_the_campaign()
    {
        var run = Run("campaign", "--duration", "10m", "--max-test", "20", "--out", _out);
        Assert.Equal(0, run.Code);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_out, "campaign.json")))!;
        Assert.Equal(20, json["traces"]!.GetValue<long>());
        Assert.Equal(600, json["boxSeconds"]!.GetValue<double>());
        Assert.Contains("20 traces or 600 s", run.Output);
    }

    [Fact]
    public void The_campaign_prints_a_plain_progress_line_when_not_on_a_terminal()
    {
        var run = Run("campaign", "--max-test", "20", "--out", _out);
        Assert.Contains("progress: 20/20 traces", run.Output);
        Assert.Contains("0 failures", run.Output);
        Assert.Contains("(done)", run.Output);
    }

    [Fact]
    public void Hunt_prints_a_plain_progress_line_and_writes_hunt_json()
    {
        var run = Run("hunt", "--bug", "untrusted_not_forced_dma", "--out", _out);
        Assert.Equal(0, run.Code);
        Assert.Contains("progress: 1/1 bugs", run.Output);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_out, "hunt.json")))!;
        Assert.Equal("untrusted_not_forced_dma", json["bugs"]![0]!["bug"]!.GetValue<string>());
        Assert.True(json["bugs"]![0]!["found"]!.GetValue<bool>());
    }
}
