using IommuConformance.Runner;
using IommuConformance.Runner.Commands;
using Xunit;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>The main job and the bug hunt, small: they run, write their reports, and answer the right exit code.</summary>
public sealed class CampaignCommandTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), $"iommu-reports-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_out)) Directory.Delete(_out, recursive: true);
    }

    private int Run(params string[] args) => RunnerApp.Run([.. args, "--out", _out], TextWriter.Null, TextWriter.Null);

    [Fact]
    public void A_short_campaign_is_conformant_and_writes_its_report()
    {
        Assert.Equal(ExitCodes.Conformant, Run("campaign", "--max-test", "50"));
        var report = File.ReadAllText(Path.Combine(_out, "campaign.md"));
        Assert.Contains("Verdict: conformant", report);
        Assert.Contains("| `probe` |", report);
    }

    [Fact]
    public void A_campaign_with_a_seeded_bug_diverges_and_saves_the_shrunk_trace()
    {
        Assert.Equal(ExitCodes.Diverged, Run("campaign", "--max-test", "300", "--bug", "sysfs_type_ignores_owner"));
        Assert.Contains("DIVERGED", File.ReadAllText(Path.Combine(_out, "campaign.md")));
        // Every failing trace is counted; the first ones are shrunk, each saved as a trace and a [Fact].
        var traces = Directory.GetFiles(Path.Combine(_out, "failures"), "*.json");
        Assert.NotEmpty(traces);
        Assert.All(traces, t => Assert.True(File.Exists(Path.ChangeExtension(t, null) + ".fact.cs"), t));
    }

    [Fact]
    public void Hunting_one_bug_finds_it_and_reports_its_length()
    {
        Assert.Equal(ExitCodes.Conformant, Run("hunt", "--bug", "untrusted_not_forced_dma"));
        Assert.Contains("| `untrusted_not_forced_dma` | yes |", File.ReadAllText(Path.Combine(_out, "hunt.md")));
    }

    [Fact]
    public void A_bad_option_is_a_usage_error()
    {
        Assert.Equal(ExitCodes.Usage, Run("campaign", "--max-test", "many"));
    }
}
