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
    private RunReport<Trace> Run(Trace trace) => CaseExecutor.Run(trace, new KernelBinding(fixture.Guest), CheckMode.Full);

    [KernelFact]
    public void The_kernel_samples_agree_with_the_model()
    {
        foreach (var name in KernelMachineTests.KernelSamples())
        {
            var report = Run(TraceJson.ReadFile(Path.Combine(AppContext.BaseDirectory, "traces", "kernel", name)));
            Assert.True(report.Conformant, $"{name}: {report.Problem?.Message}");
        }
    }

    [KernelFact]
    public void Generated_reachable_traces_agree_with_the_model()
    {
        for (var seed = 1000UL; seed < 1005; seed++)
        {
            var report = Run(KernelGen.Generate(seed, maxSteps: 20));
            Assert.True(report.Conformant, $"seed {seed}: {report.Problem?.Message}");
        }
    }

    [KernelFact]
    public void An_unreachable_step_is_refused_with_its_reason()
    {
        var sample = TraceJson.ReadFile(Path.Combine(AppContext.BaseDirectory, "traces", "kernel", "bound-driver-eperm.json"));
        var report = Run(sample.WithSteps(sample.Steps.Skip(1)));
        Assert.Equal(ProblemKind.Threw, report.Problem?.Kind);
        Assert.Contains("starts with bus_probe", report.Problem!.Message);
    }

    [KernelFact]
    public void The_guest_resets_to_its_initial_state() => KernelBinding.Reset(fixture.Guest);
}
