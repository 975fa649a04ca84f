using IommuConformance.Implementations.Bugs;
using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// <c>--bug NAME</c> must name a seeded bug: an unknown one is a usage error listing the catalogue, checked before
/// anything runs, so no report is written or overwritten (it used to report DIVERGED, or hunt nothing and exit 0).
/// </summary>
public sealed class BugOptionTests : IDisposable
{
    private readonly string _out = TempPath("bug-option");

    public void Dispose()
    {
        if (Directory.Exists(_out)) Directory.Delete(_out, recursive: true);
    }

    [Theory]
    [InlineData("campaign")]
    [InlineData("hunt")]
    public void An_unknown_bug_lists_the_known_ones_and_writes_nothing(string command)
    {
        var run = Run(command, "--bug", "nosuchbug", "--out", _out);
        run.AssertUsageError(["--bug", "'nosuchbug'", .. BugCatalogue.All.Select(b => b.Name)]);
        Assert.False(Directory.Exists(_out));
    }

    [Fact]
    public void An_unknown_bug_beside_a_known_one_leaves_the_old_report_alone()
    {
        Directory.CreateDirectory(_out);
        var report = Path.Combine(_out, "campaign.md");
        File.WriteAllText(report, "old report");
        Run("campaign", "--bug", BugCatalogue.SysfsTypeIgnoresOwner, "--bug", "nosuchbug", "--out", _out)
            .AssertUsageError("'nosuchbug'");
        Assert.Equal("old report", File.ReadAllText(report));
        Assert.Equal([report], Directory.GetFileSystemEntries(_out));
    }
}
