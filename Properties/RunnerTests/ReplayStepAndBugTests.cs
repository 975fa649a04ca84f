using IommuConformance.Implementations.Bugs;
using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary><c>replay --step N</c> (stop there, both states side by side) and <c>replay --bug NAME</c>.</summary>
public sealed class ReplayStepAndBugTests
{
    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "traces", name);

    private static string CorpusTrace(string bug) => Path.Combine(AppContext.BaseDirectory, "corpus", bug + ".json");

    [Fact]
    public void Step_stops_after_that_step_and_prints_both_states()
    {
        var run = Run("replay", Sample("hot-add-owned-group.json"), "--step", "2");
        Assert.Equal(0, run.Code);
        Assert.Contains("conformant (2 steps)", run.Output);
        Assert.DoesNotContain("get_domain", run.Output);
        Assert.Contains("state after step 2:", run.Output);
        Assert.Contains("model: group", run.Output);
        Assert.Contains("impl: group", run.Output);
        Assert.Contains("devA    smmu0/g0", run.Output);
    }

    [Fact]
    public void Bug_switches_a_seeded_bug_on_and_the_states_show_where_it_stopped()
    {
        var trace = CorpusTrace(BugCatalogue.SysfsTypeIgnoresOwner);
        Assert.Equal(0, Run("replay", trace).Code);
        var run = Run("replay", trace, "--bug", BugCatalogue.SysfsTypeIgnoresOwner, "--step", "3");
        Assert.Equal(1, run.Code);
        Assert.Contains($"bugs: {BugCatalogue.SysfsTypeIgnoresOwner}", run.Output);
        Assert.Contains("state where the run stopped:", run.Output);
    }

    [Fact]
    public void The_side_by_side_marks_a_device_whose_states_differ()
    {
        // untrusted_not_forced_dma: the untrusted device gets the identity default instead of DMA.
        var run = Run("replay", CorpusTrace(BugCatalogue.UntrustedNotForcedDma), "--bug", BugCatalogue.UntrustedNotForcedDma, "--step", "1");
        Assert.Equal(1, run.Code);
        Assert.Contains("≠", run.Output);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("x")]
    public void A_bad_step_is_a_usage_error(string value) =>
        Run("replay", Sample("hot-add-owned-group.json"), "--step", value).AssertUsageError("--step");

    [Fact]
    public void A_step_beyond_the_trace_is_a_usage_error() =>
        Run("replay", Sample("hot-add-owned-group.json"), "--step", "999").AssertUsageError("--step 999", "beyond");

    [Fact]
    public void An_unknown_bug_is_a_usage_error() =>
        Run("replay", Sample("hot-add-owned-group.json"), "--bug", "nosuchbug").AssertUsageError("--bug", "'nosuchbug'");
}
