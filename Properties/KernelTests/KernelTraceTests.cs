using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.KernelBackend;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>
/// The real kernel, judged by the model, on a small fixed set of traces: the kernel samples and a few generated ones
/// (`dotnet test --filter Category=Kernel`; skipped, with the reason, without scripts/kernel-setup.sh).
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public class KernelTraceTests(KernelGuestFixture fixture)
{
    /// <summary>The booted kernel decides the era: the samples of its era run, the others are not its traces.</summary>
    private KernelEra Era => KernelEras.OfRelease(fixture.Guest.Release) ?? KernelEra.V7_0;

    private RunReport<Trace> Run(Trace trace) => CaseExecutor.Run(trace, new KernelBinding(fixture.Guest, Era), CheckMode.Full);

    [KernelFact]
    public void The_kernel_samples_of_the_booted_era_agree_with_the_model()
    {
        var ran = 0;
        foreach (var name in KernelMachineTests.KernelSamples())
        {
            var trace = TraceJson.ReadFile(Path.Combine(AppContext.BaseDirectory, "traces", "kernel", name));
            if (trace.Config.Era != Era) continue;
            // The 6.1 guest dies in this one (a 6.1 kernel BUG, docs/real-kernel.md): it pins 7.x only.
            if (Era == KernelEra.V6_1 && name.Contains("6.1-bug", StringComparison.Ordinal)) continue;
            var report = Run(trace);
            Assert.True(report.Conformant, $"{name}: {report.Problem?.Message}");
            ran++;
        }
        Assert.True(ran >= 4, $"only {ran} samples of era {KernelEras.Name(Era)}");
    }

    [KernelFact]
    public void A_trace_of_another_era_is_refused_with_the_reason()
    {
        var other = Era == KernelEra.V7_0 ? KernelEra.V6_1 : KernelEra.V7_0;
        var report = Run(KernelGen.Generate(1, maxSteps: 4, other));
        Assert.Equal(ProblemKind.Threw, report.Problem?.Kind);
        Assert.Contains($"the trace is of era {KernelEras.Name(other)}", report.Problem!.Message);
        var e = Assert.Throws<KernelBackendException>(() => new KernelBinding(fixture.Guest, other));
        Assert.Contains("--era", e.Message);
    }

    [KernelFact]
    public void Generated_reachable_traces_agree_with_the_model()
    {
        for (var seed = 1000UL; seed < 1005; seed++)
        {
            var report = Run(KernelGen.Generate(seed, maxSteps: 20, Era));
            Assert.True(report.Conformant, $"seed {seed}: {report.Problem?.Message}");
        }
    }

    [KernelFact]
    public void An_unreachable_step_is_refused_with_its_reason()
    {
        var sample = TraceJson.ReadFile(Path.Combine(AppContext.BaseDirectory, "traces", "kernel", "bound-driver-eperm.json"));
        var report = Run(sample.WithSteps(sample.Steps.Skip(1)) with { Config = sample.Config with { Era = Era } });
        Assert.Equal(ProblemKind.Threw, report.Problem?.Kind);
        Assert.Contains("starts with bus_probe", report.Problem!.Message);
    }

    [KernelFact]
    public void The_guest_resets_to_its_initial_state() => KernelBinding.Reset(fixture.Guest);
}
