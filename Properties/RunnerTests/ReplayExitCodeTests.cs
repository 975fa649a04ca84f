using IommuConformance.Properties.HarnessTests;
using IommuConformance.Runner;
using IommuConformance.Runner.Commands;
using Xunit;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// The spec §5 exit codes of <c>replay</c>, through the same entry point the command line uses: 0 conformant,
/// 1 the implementation diverged (a seeded bug), 2 the model disagreed with an expect, 3 malformed.
/// </summary>
public sealed class ReplayExitCodeTests
{
    private static (int Code, string Output, string Errors) Replay(params string[] files)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = RunnerApp.Run(["replay", .. files], output, errors);
        return (code, output.ToString(), errors.ToString());
    }

    private static string Sample(string relative) => Path.Combine(SampleFiles.Root, relative);

    [Fact]
    public void A_green_sample_exits_0_and_prints_one_row_per_step()
    {
        var (code, output, _) = Replay(Sample("hot-add-owned-group.json"));
        Assert.Equal(0, code);
        Assert.Contains("conformant (13 steps)", output);
    }

    /// <summary>
    /// Issue #6 "Must show": a trace with map and device_dma steps prints both outcomes of every step, values included
    /// (a DMA's phys or fault on each side), in the model and implementation columns.
    /// </summary>
    [Fact]
    public void A_trace_with_memory_steps_prints_both_outcomes_of_each_step_with_their_values()
    {
        var (code, output, _) = Replay(Sample("lagging-device-dma.json"));
        Assert.Equal(0, code);
        string Row(int step) => output.Split('\n').Single(l => l.TrimStart().StartsWith($"{step}  ", StringComparison.Ordinal));
        int Count(string line, string what) => line.Split(what).Length - 1;
        Assert.Contains("map {domain: d1, iova: 0x1000000, paddr: 0x8000, size: 0x1000, prot: rw}", Row(3));
        Assert.Matches(@"prot: rw\}\s+OK\s+OK\s+ok$", Row(3));
        Assert.Equal(2, Count(Row(8), "OK \"phys=0x8008\""));
        Assert.Equal(2, Count(Row(9), "EIO \"fault=blocked\""));
        Assert.Equal(2, Count(Row(6), "OK [set_domain_nofail_failed]"));
        Assert.Contains("conformant (12 steps)", output);
    }

    [Fact]
    public void A_seeded_bug_trace_exits_1_and_names_the_divergence()
    {
        var (code, output, _) = Replay(Sample("bugs/no_owner_gatekeeper.json"));
        Assert.Equal(1, code);
        Assert.Contains("DIVERGED", output);
    }

    [Fact]
    public void An_expect_the_model_disagrees_with_exits_2()
    {
        var (code, output, _) = Replay(Sample("expect-mismatch.json"));
        Assert.Equal(2, code);
        Assert.Contains("EXPECT", output);
    }

    [Theory]
    [InlineData("malformed/unbound-domain.json", "step 2")]
    [InlineData("malformed/unknown-field.json", "field")]
    public void A_malformed_trace_exits_3_naming_step_and_field(string file, string named)
    {
        var (code, output, errors) = Replay(Sample(file));
        Assert.Equal(3, code);
        Assert.Contains(named, output + errors);
    }

    [Fact]
    public void Malformed_json_exits_3()
    {
        var path = Path.Combine(Path.GetTempPath(), $"iommu-broken-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "format": "iommu-conformance-trace/1", "steps": [ """);
        try
        {
            Assert.Equal(3, Replay(path).Code);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Several_files_exit_with_the_worst_code()
    {
        Assert.Equal(2, Replay(Sample("hot-add-owned-group.json"), Sample("bugs/no_owner_gatekeeper.json"), Sample("expect-mismatch.json")).Code);
    }
}
