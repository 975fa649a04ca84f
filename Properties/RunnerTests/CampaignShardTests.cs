using System.Text.Json.Nodes;
using IommuConformance.Implementations.Bugs;
using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// <c>campaign --shard I/N</c> and <c>merge</c>: the shards of a campaign are disjoint parts of the same traces, and
/// merging all of them gives the figures of the unsharded campaign with the same seed, failures included.
/// </summary>
public sealed class CampaignShardTests : IDisposable
{
    private readonly string _root = TempPath("shards");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private string Dir(string name) => Path.Combine(_root, name);

    /// <summary>A result's figures: everything but the wall time and which shards it came from.</summary>
    private static string Figures(string file)
    {
        var json = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        json.Remove("elapsedSeconds");
        json.Remove("shards");
        return json.ToJsonString();
    }

    private void RunShards(int count, params string[] args)
    {
        for (var i = 1; i <= count; i++)
            Run([.. args, "--shard", $"{i}/{count}", "--out", Dir($"s{i}")]);
    }

    private string[] ShardFiles(int count) =>
        [.. Enumerable.Range(1, count).Select(i => Path.Combine(Dir($"s{i}"), count == 1 ? "campaign.json" : $"campaign-{i}of{count}.json"))];

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Shards_merge_into_the_figures_of_the_unsharded_campaign(int count)
    {
        string[] args = ["campaign", "--max-test", "60", "--seed", "42,7"];
        Assert.Equal(0, Run([.. args, "--out", Dir("whole")]).Code);
        RunShards(count, args);
        var merge = Run(["merge", .. ShardFiles(count), "--out", Dir("merged")]);
        Assert.Equal(0, merge.Code);
        Assert.Equal(Figures(Path.Combine(Dir("whole"), "campaign.json")), Figures(Path.Combine(Dir("merged"), "campaign.json")));
        var traces = ShardFiles(count).Sum(f => JsonNode.Parse(File.ReadAllText(f))!["traces"]!.GetValue<long>());
        Assert.Equal(60, traces);
    }

    [Fact]
    public void Shards_with_a_seeded_bug_merge_into_the_same_failures_and_files()
    {
        string[] args = ["campaign", "--max-test", "200", "--bug", BugCatalogue.SysfsTypeIgnoresOwner];
        Assert.Equal(1, Run([.. args, "--out", Dir("whole")]).Code);
        RunShards(2, args);
        Assert.Equal(1, Run(["merge", .. ShardFiles(2), "--out", Dir("merged")]).Code);
        Assert.Equal(Figures(Path.Combine(Dir("whole"), "campaign.json")), Figures(Path.Combine(Dir("merged"), "campaign.json")));
        var whole = Directory.GetFiles(Path.Combine(Dir("whole"), "failures")).Select(Path.GetFileName).Order().ToArray();
        Assert.NotEmpty(whole);
        Assert.Equal(whole, Directory.GetFiles(Path.Combine(Dir("merged"), "failures")).Select(Path.GetFileName).Order().ToArray());
    }

    [Fact]
    public void Each_shard_runs_its_own_traces()
    {
        RunShards(2, "campaign", "--max-test", "200", "--bug", BugCatalogue.SysfsTypeIgnoresOwner);
        var failing = ShardFiles(2).Select(f => JsonNode.Parse(File.ReadAllText(f))!["failing"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray()).ToArray();
        Assert.All(failing[0], k => Assert.Equal(0, k % 2));
        Assert.All(failing[1], k => Assert.Equal(1, k % 2));
        Assert.NotEmpty(failing[0].Concat(failing[1]));
    }

    [Theory]
    [InlineData("3/2", "I must be from 1 to 2")]
    [InlineData("0/0", "N must be at least 1")]
    [InlineData("0/2", "I must be from 1 to 2")]
    [InlineData("1/0", "N must be at least 1")]
    [InlineData("1", "no single '/'")]
    [InlineData("a/2", "I 'a' is not a positive integer")]
    [InlineData("1/-2", "N '-2' is not a positive integer")]
    public void A_bad_shard_is_a_usage_error_and_writes_nothing(string shard, string why)
    {
        Run("campaign", "--shard", shard, "--out", Dir("bad")).AssertUsageError("--shard", $"'{shard}'", why);
        Assert.False(Directory.Exists(Dir("bad")));
    }

    [Fact]
    public void Merging_shards_of_different_seeds_is_refused_and_writes_nothing()
    {
        Run("campaign", "--max-test", "10", "--seed", "1", "--shard", "1/2", "--out", Dir("s1"));
        Run("campaign", "--max-test", "10", "--seed", "2", "--shard", "2/2", "--out", Dir("s2"));
        Run(["merge", .. ShardFiles(2), "--out", Dir("merged")]).AssertUsageError("not shards of one campaign", "seed");
        Assert.False(Directory.Exists(Dir("merged")));
    }

    [Fact]
    public void Merging_shards_of_different_boxes_or_bugs_is_refused()
    {
        Run("campaign", "--max-test", "10", "--shard", "1/2", "--out", Dir("s1"));
        Run("campaign", "--max-test", "12", "--shard", "2/2", "--out", Dir("s2"));
        Run(["merge", .. ShardFiles(2), "--out", Dir("merged")]).AssertUsageError("trace box 12 vs 10");
        Run("campaign", "--max-test", "10", "--shard", "2/2", "--bug", BugCatalogue.SysfsTypeIgnoresOwner, "--out", Dir("s2"));
        Run(["merge", .. ShardFiles(2), "--out", Dir("merged")]).AssertUsageError("bugs");
        Assert.False(Directory.Exists(Dir("merged")));
    }

    [Fact]
    public void Merging_overlapping_or_incomplete_shards_is_refused()
    {
        RunShards(2, "campaign", "--max-test", "10");
        var files = ShardFiles(2);
        Run("merge", files[0], files[0], "--out", Dir("merged")).AssertUsageError("shard 1/2", "overlapping");
        Run("merge", files[0], "--out", Dir("merged")).AssertUsageError("2/2 missing");
        Run("campaign", "--max-test", "10", "--shard", "1/3", "--out", Dir("t1"));
        Run("merge", files[0], Path.Combine(Dir("t1"), "campaign-1of3.json"), "--out", Dir("merged")).AssertUsageError("shard count");
        Assert.False(Directory.Exists(Dir("merged")));
    }

    [Fact]
    public void Merging_a_file_that_is_no_campaign_result_exits_3_naming_it()
    {
        RunShards(1, "campaign", "--max-test", "5");
        var good = ShardFiles(1)[0];
        var truncated = Path.Combine(_root, "truncated.json");
        File.WriteAllText(truncated, File.ReadAllText(good)[..40]);
        var run = Run("merge", truncated, "--out", Dir("merged"));
        Assert.Equal(3, run.Code);
        Assert.Contains("truncated.json", run.Errors);
        run.AssertNoStackTrace();

        var old = Path.Combine(_root, "old.json");
        File.WriteAllText(old, File.ReadAllText(good).Replace("iommu-conformance-campaign/1", "iommu-conformance-campaign/0", StringComparison.Ordinal));
        run = Run("merge", old, "--out", Dir("merged"));
        Assert.Equal(3, run.Code);
        Assert.Contains("\"iommu-conformance-campaign/0\" is not supported", run.Errors);
        Assert.False(Directory.Exists(Dir("merged")));
    }

    [Fact]
    public void Merging_a_missing_file_is_a_usage_error() =>
        Run("merge", Path.Combine(_root, "none.json"), "--out", Dir("merged")).AssertUsageError("no such file");
}
