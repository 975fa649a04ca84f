using Xunit;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// A valid trace whose machine the emulated implementation cannot build (a contract driver it does not have yet, an
/// era it does not follow) is refused with its reason and exit 5, not reported as a divergence.
/// </summary>
public class ReplayUnsupportedTests
{
    private const string Trace = """
        {"format":"iommu-conformance-trace/1","title":"t","bugs":[],"config":{"cpus":2,"defaultDomain":"DMA"CONFIG},
         "topology":{"iommus":[{"name":"iommu0","driver":"DRIVER"}],"devices":[{"name":"dev0","bus":"pci","iommu":"iommu0","group":"g0"}]},
         "steps":[{"op":"probe","dev":"dev0"}]}
        """;

    [Theory]
    [InlineData("smmuv3", ",\"era\":\"6.1\"", "7.0 era only")]
    public void A_trace_the_implementation_cannot_run_is_refused_with_its_reason(string driver, string config, string reason)
    {
        var file = RunnerCli.TempPath("unsupported") + ".json";
        File.WriteAllText(file, Trace.Replace("DRIVER", driver).Replace("CONFIG", config));
        try
        {
            var run = RunnerCli.Run("replay", file);
            Assert.Equal(5, run.Code);
            Assert.Contains(reason, run.Errors);
            Assert.DoesNotContain("DIVERGED", run.Output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("smmuv3")]
    [InlineData("virtio")]
    public void The_same_machine_on_a_driver_it_has_replays(string driver)
    {
        var file = RunnerCli.TempPath("supported") + ".json";
        File.WriteAllText(file, Trace.Replace("DRIVER", driver).Replace("CONFIG", ""));
        try
        {
            Assert.Equal(0, RunnerCli.Run("replay", file).Code);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
