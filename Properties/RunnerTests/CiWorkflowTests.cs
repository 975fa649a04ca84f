using Xunit;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// .github/workflows/ci.yml runs the commands of .ci/run, so that the local CI and the hosted one cannot drift:
/// every <c>run:</c> of the workflow (but the step summary) is a line of .ci/run, with <c>runner</c> standing for
/// <c>dotnet run --project Runner -c Release --no-build --</c>.
/// </summary>
public sealed class CiWorkflowTests
{
    private const string Runner = "dotnet run --project Runner -c Release --no-build --";

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "IommuConformance.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("no IommuConformance.sln above the test folder");
    }

    private static IEnumerable<string> RunCommands(string workflow) =>
        File.ReadLines(workflow).Select(l => l.Trim()).Where(l => l.StartsWith("run: ", StringComparison.Ordinal)).Select(l => l["run: ".Length..]);

    [Fact]
    public void Every_command_of_ci_yml_is_one_of_ci_run()
    {
        var root = RepositoryRoot();
        var script = File.ReadAllText(Path.Combine(root, ".ci", "run")).Replace("runner ", Runner + " ", StringComparison.Ordinal);
        var commands = RunCommands(Path.Combine(root, ".github", "workflows", "ci.yml")).Where(c => !c.Contains("GITHUB_STEP_SUMMARY", StringComparison.Ordinal)).ToArray();
        Assert.True(commands.Length >= 6, string.Join("\n", commands));
        Assert.All(commands, c => Assert.Contains(c, script));
    }

    [Fact]
    public void The_nightly_campaign_shards_and_merges()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot(), ".github", "workflows", "campaign.yml"));
        Assert.Contains("--shard \"${{ matrix.shard }}/$SHARDS\"", text);
        Assert.Contains($"{Runner} merge", text);
        Assert.Contains("schedule:", text);
    }
}
