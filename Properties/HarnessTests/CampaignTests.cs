using IommuConformance.Harness.Checking;
using IommuConformance.Implementations.Bugs;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The per-trace campaign: each trace from its own seed, so count and time boxes share their prefix and shards are
/// disjoint parts of the same traces; its result survives JSON; a merge adds shards up to the whole.
/// </summary>
public sealed class CampaignTests
{
    [Fact]
    public void A_time_box_ends_the_campaign_on_the_clock_it_is_given()
    {
        // A fake clock: one second per look. The box is looked at between traces, after the first.
        var ticks = 0;
        var plan = CampaignPlan.Of(1000) with { Traces = null, Duration = TimeSpan.FromSeconds(5) };
        var result = Campaign.Run(plan, clock: () => TimeSpan.FromSeconds(ticks++));
        Assert.InRange(result.Traces, 2, 6);
        var counted = Campaign.Run(CampaignPlan.Of(result.Traces));
        Assert.True(counted.SameFigures(result with { Plan = result.Plan with { Traces = result.Traces, Duration = null } }));
    }

    [Fact]
    public void Trace_seeds_depend_on_the_number_alone()
    {
        Assert.NotEqual(TraceSeeds.Seed(1, 7, 0), TraceSeeds.Seed(1, 7, 1));
        Assert.NotEqual(TraceSeeds.Seed(1, 7, 0), TraceSeeds.Seed(2, 7, 0));
        Assert.Equal(TraceSeeds.Seed(1, 7, 12345), TraceSeeds.Seed(1, 7, 12345));
        Assert.Equal(0, TraceSeeds.Size(0, 100));
        Assert.Equal(100, TraceSeeds.Size(TraceSeeds.SizeCycle - 1, 100));
        Assert.Equal(0, TraceSeeds.Size(TraceSeeds.SizeCycle, 100));
    }

    [Theory]
    [InlineData(10, 1, 3, 4)]
    [InlineData(10, 2, 3, 3)]
    [InlineData(10, 3, 3, 3)]
    [InlineData(1, 2, 2, 0)]
    [InlineData(0, 1, 1, 0)]
    public void A_shard_owns_every_nth_trace(long traces, int index, int count, long share)
    {
        var shard = new Shard(index, count);
        Assert.Equal(share, Campaign.ShareOf(traces, shard));
        Assert.Equal(share, Enumerable.Range(0, (int)traces).Count(k => shard.Owns(k)));
    }

    [Fact]
    public void The_result_survives_its_json()
    {
        var result = Campaign.Run(CampaignPlan.Of(300) with { Bugs = [BugCatalogue.SysfsTypeIgnoresOwner], MaxShrunk = 2 });
        Assert.True(result.Failed);
        Assert.Equal(2, result.Shrunk.Length);
        var read = CampaignJson.Read(CampaignJson.Write(result), "test");
        Assert.True(read.SameFigures(result));
        Assert.Equal(CampaignJson.Write(result), CampaignJson.Write(read with { Elapsed = result.Elapsed }));
    }

    [Fact]
    public void Merged_shards_have_the_figures_of_the_whole()
    {
        var plan = CampaignPlan.Of(90) with { Bugs = [BugCatalogue.NoOwnerGatekeeper], MaxShrunk = 3 };
        var whole = Campaign.Run(plan);
        var parts = Enumerable.Range(1, 3).Select(i => ($"shard {i}", Campaign.Run(plan with { Shard = new Shard(i, 3) }))).ToArray();
        var merged = CampaignMerge.Merge(parts);
        Assert.True(merged.SameFigures(whole));
        Assert.Equal(whole.Coverage.Total, parts.Sum(p => p.Item2.Coverage.Total));
    }

    [Fact]
    public void Invariants_are_counted_once_per_evaluation()
    {
        var result = Campaign.Run(CampaignPlan.Of(20));
        var row = result.Invariants.Row(CampaignResult.InvariantRow);
        Assert.Equal(Harness.Iommu.Invariants.StructuralInvariants.All.Select(i => i.Id).Order(StringComparer.Ordinal), row.Keys);
        // All are evaluated together: once per checked step that changed the view, and at sweeps (a step that changes
        // nothing skips them, IommuRun.InvariantsHeldAt); most steps change something.
        Assert.Single(row.Values.Distinct());
        Assert.All(row.Values, n => Assert.True(n > result.Steps / 2, $"{n} evaluations for {result.Steps} steps"));
        var scope = result.Invariants.Row(CampaignResult.ScopeRow);
        Assert.Equal(["devices", "domains", "groups"], scope.Keys);
        Assert.All(scope.Values, n => Assert.True(n > 0));
    }

    [Theory]
    [InlineData("1/1", 1, 1)]
    [InlineData("2/5", 2, 5)]
    public void Shards_parse(string text, int index, int count)
    {
        Assert.True(Shard.TryParse(text, out var shard, out _));
        Assert.Equal(new Shard(index, count), shard);
    }
}
