using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Implementations;
using Xunit;
using Xunit.Abstractions;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// Which allocation the generator's <c>fail_nth</c> steps reach (docs/generation.md, "fail_nth"): 3,000 default-run
/// traces (seeds 0–2999, size 100) run on the implementation; each <c>fail_nth</c> is credited to the site of the first
/// fault line after it (or "not met" when the next <c>fail_nth</c> or the end comes first). Every site must be met.
/// </summary>
public sealed class FaultSiteReachTests(ITestOutputHelper output)
{
    private const int Traces = 3000;

    [Fact]
    public void The_default_run_reaches_every_fault_site()
    {
        var met = Warn.FaultSites.All.ToDictionary(s => s, _ => 0);
        var steps = 0;
        var notMet = 0;
        for (var seed = 0UL; seed < Traces; seed++)
        {
            var trace = TraceGen.Build(TraceGenSettings.Default, seed, 100);
            var system = IommuSystem.Create(trace.Config, trace.Topology, []);
            var armed = false;
            foreach (var step in trace.Steps)
            {
                if (step.Op is FailNth)
                {
                    if (armed) notMet++;
                    armed = true;
                    steps++;
                }
                var outcome = system.Execute(step.Op);
                if (!armed) continue;
                foreach (var w in outcome.Warnings)
                    if (Warn.FaultSites.TryParse(w, out var site, out _))
                    {
                        met[site]++;
                        armed = false;
                        break;
                    }
            }
            if (armed) notMet++;
        }
        output.WriteLine($"| site | fail_nth steps | share |\n|---|---:|---:|");
        foreach (var (site, n) in met.OrderByDescending(kv => kv.Value))
            output.WriteLine($"| `{site}` | {n} | {100.0 * n / steps:0.0}% |");
        output.WriteLine($"| not met | {notMet} | {100.0 * notMet / steps:0.0}% |\n| all | {steps} | |");
        Assert.All(met, kv => Assert.True(kv.Value > 0, $"no fail_nth reached {kv.Key}"));
        // the flip (fail_nth 1 right before a sysfs DMA → DMA-FQ write, DmaRules.Flip) makes iova_fq common: 49 of
        // 1,887 when it came (2 of 1,887 before); fewer than 1 % means the rule stopped reaching the flip
        Assert.True(met[Warn.FaultSites.Fq] * 100 >= steps, $"iova_fq met by {met[Warn.FaultSites.Fq]} of {steps} fail_nth steps");
    }
}
