using IommuConformance.Properties.Support;
using IommuConformance.Properties.RunnerTests;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>
/// The two kernel commands end to end, as a user runs them: each boots its own guest (one at a time, in the kernel
/// collection), replays or generates, and answers the exit code and the lines the README shows.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", TestCategories.Kernel)]
public class KernelCommandTests
{
    [KernelFact]
    public void Replay_on_the_kernel_agrees_on_a_sample_and_prints_its_steps()
    {
        var sample = Path.Combine(AppContext.BaseDirectory, "traces", "kernel", "sysfs-trailing-newline.json");
        var run = RunnerCli.Run("replay", "--backend", "kernel", sample);
        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Output}{run.Errors}");
        Assert.Contains("group_type_write", run.Output);
    }

    [KernelFact]
    public void A_small_kernel_campaign_agrees_and_writes_its_report()
    {
        var dir = RunnerCli.TempPath("kernel-campaign");
        try
        {
            var run = RunnerCli.Run("kernel-campaign", "--count", "3", "--seed", "3", "--max-steps", "8", "--out", dir);
            Assert.True(run.Code == 0, $"exit {run.Code}: {run.Output}{run.Errors}");
            Assert.NotEmpty(Directory.GetFiles(dir));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
