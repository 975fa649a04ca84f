using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations.Bugs;
using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// Every saved failure comes with a ready-to-paste [Fact]: it embeds the very trace saved beside it and replays it
/// with CorpusReplay; the trace fails with its bug and replays conformant without it.
/// </summary>
public sealed class FailureFactTests : IDisposable
{
    private readonly string _out = TempPath("facts");

    public void Dispose()
    {
        if (Directory.Exists(_out)) Directory.Delete(_out, recursive: true);
    }

    [Fact]
    public void A_campaign_failure_yields_its_trace_and_a_fact_that_embeds_it()
    {
        Assert.Equal(1, Run("campaign", "--max-test", "200", "--bug", BugCatalogue.SysfsTypeIgnoresOwner, "--out", _out).Code);
        var trace = Directory.GetFiles(Path.Combine(_out, "failures"), "*.json").Order().First();
        var fact = File.ReadAllText(Path.ChangeExtension(trace, null) + ".fact.cs");
        Assert.Contains("[Fact]", fact);
        Assert.Contains("CorpusReplay.AssertConformant(\"\"\"", fact);
        Assert.Contains(File.ReadAllText(trace).TrimEnd(), fact);

        Assert.Equal(1, Run("replay", trace).Code);
        var parsed = TraceJson.ReadFile(trace);
        Assert.Equal([BugCatalogue.SysfsTypeIgnoresOwner], parsed.Bugs.ToArray());
        var clean = Path.Combine(_out, "clean.json");
        File.WriteAllText(clean, TraceJson.Write(parsed with { Bugs = [] }));
        Assert.Equal(0, Run("replay", clean).Code);
    }

    [Fact]
    public void A_hunt_writes_a_fact_per_bug_found()
    {
        Run("hunt", "--bug", BugCatalogue.UntrustedNotForcedDma, "--out", _out);
        Assert.True(File.Exists(Path.Combine(_out, "failures", $"bug-{BugCatalogue.UntrustedNotForcedDma}.fact.cs")));
    }
}
