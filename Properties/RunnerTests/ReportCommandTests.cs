using IommuConformance.Implementations.Bugs;
using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary><c>report</c>: the conformance report from campaign.json, hunt.json and the coverage summary.</summary>
public sealed class ReportCommandTests : IDisposable
{
    private readonly string _out = TempPath("report");

    public void Dispose()
    {
        if (Directory.Exists(_out)) Directory.Delete(_out, recursive: true);
    }

    private string In(string file) => Path.Combine(_out, file);

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G'];

    [Fact]
    public void The_report_has_every_section_and_its_charts()
    {
        Assert.Equal(0, Run("campaign", "--max-test", "30", "--seed", "5", "--out", _out).Code);
        Assert.Equal(0, Run("hunt", "--bug", BugCatalogue.UntrustedNotForcedDma, "--out", _out).Code);
        Directory.CreateDirectory(In("coverage"));
        File.WriteAllText(In("coverage/Summary.json"),
            """{ "summary": { "generatedon": "today", "linecoverage": 97.4, "branchcoverage": 91.7, "methodcoverage": 95, "coveredlines": 974, "coverablelines": 1000 } }""");
        var run = Run("report", "--out", _out);
        Assert.Equal(0, run.Code);

        var md = File.ReadAllText(In("conformance.md"));
        foreach (var section in new[] { "Operations × outcomes", "Never produced", "Invariants checked", "Scenarios run", "Seeded-bug hunt", "Code coverage" })
            Assert.Contains(section, md);
        Assert.Contains("Seed of the run: 5,", md);
        Assert.Contains("| c.9 |", md);
        Assert.Contains("Objects in those scopes, in all: ", md);
        Assert.Contains("line coverage | 97.4 % (974 of 1,000 lines)", md);
        Assert.Contains($"| {BugCatalogue.UntrustedNotForcedDma} | yes |", md);
        // 30 short traces do not reach everything: the pairs never produced are listed.
        Assert.Contains("- probe → ", md);
        Assert.Contains("![steps per operation by outcome](conformance.outcomes.png)", md);

        var html = File.ReadAllText(In("conformance.html"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Equal(2, html.Split("src=\"data:image/png;base64,").Length - 1);
        foreach (var chart in new[] { "conformance.outcomes.png", "conformance.hunt.png" })
            Assert.Equal(PngSignature, File.ReadAllBytes(In(chart))[..4]);
    }

    [Fact]
    public void Without_hunt_and_coverage_the_report_says_how_to_make_them()
    {
        Run("campaign", "--max-test", "5", "--out", _out);
        var run = Run("report", "--out", _out);
        Assert.Equal(0, run.Code);
        Assert.Contains("(no hunt results) (no coverage summary)", run.Output);
        var md = File.ReadAllText(In("conformance.md"));
        Assert.Contains("run dotnet run --project Runner -c Release -- hunt first", md);
        Assert.Contains("run bash scripts/coverage.sh first", md);
    }

    [Theory]
    [InlineData("{ \"format\": \"other\" }", "{ truncated")]
    [InlineData("{ \"format\": \"iommu-conformance-hunt/1\" }", "{ \"summary\": { \"linecoverage\": 90 } }")]
    [InlineData("[]", "{ \"summary\": { \"linecoverage\": \"high\", \"branchcoverage\": 1 } }")]
    public void Unreadable_hunt_and_coverage_files_are_noted_and_left_out(string hunt, string coverage)
    {
        Run("campaign", "--max-test", "5", "--out", _out);
        File.WriteAllText(In("hunt.json"), hunt);
        Directory.CreateDirectory(In("coverage"));
        File.WriteAllText(In("coverage/Summary.json"), coverage);
        Assert.Equal(0, Run("report", "--out", _out).Code);
        var md = File.ReadAllText(In("conformance.md"));
        Assert.Contains("Note: hunt results left out:", md);
        Assert.Contains("Note: coverage left out:", md);
    }

    [Fact]
    public void A_failing_campaign_lists_its_shrunk_failures()
    {
        Run("campaign", "--max-test", "200", "--bug", BugCatalogue.SysfsTypeIgnoresOwner, "--out", _out);
        Assert.Equal(0, Run("report", "--out", _out).Code);
        var md = File.ReadAllText(In("conformance.md"));
        Assert.Contains("Verdict: DIVERGED", md);
        Assert.Contains("## Shrunk failures", md);
    }

    [Fact]
    public void Without_a_campaign_result_it_is_a_usage_error() =>
        Run("report", "--out", _out).AssertUsageError("campaign.json", "run 'campaign'");

    [Fact]
    public void A_malformed_campaign_result_exits_3()
    {
        Directory.CreateDirectory(_out);
        File.WriteAllText(In("campaign.json"), "[]");
        var run = Run("report", "--out", _out);
        Assert.Equal(3, run.Code);
        Assert.Contains("campaign.json", run.Errors);
        Assert.False(File.Exists(In("conformance.html")));
    }
}
