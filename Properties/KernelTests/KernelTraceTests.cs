using IommuConformance.Properties.Support;
using IommuConformance.Harness.Core.Steps;
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
[Trait("Category", TestCategories.Kernel)]
public class KernelTraceTests(KernelGuestFixture fixture)
{
    /// <summary>The booted kernel decides the era: the samples of its era run, the others are not its traces.</summary>
    /// <summary>(Read from the live guest when there is one: asking for the fixed machine's would shut another machine's down.)</summary>
    private KernelEra Era => KernelEras.OfRelease((fixture.Guests.Live ?? fixture.Guest).Release) ?? KernelEra.V7_0;

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

    /// <summary>
    /// A machine other than the fixed one (two bridges, one with an edu and an e1000 behind it, one with an edu; an
    /// e1000e and a virtio-net on the root complex) boots through the cache, with the guest of the fixed machine shut
    /// down first, and its generated traces and a VFIO claim behind the second bridge agree with the model.
    /// </summary>
    [KernelFact]
    public void A_generated_machine_boots_and_its_traces_agree_with_the_model()
    {
        var topology = new Topology([new IommuSpec(KernelBackend.Machine.KernelMachine.Iommu, DriverNames.Smmuv3, IommuOptions.None)],
            [.. new[] { "a", "b", "b", "b", "c", "d", "d" }.Select((g, i) => new DeviceSpec($"n{i}", BusNames.Pci, KernelBackend.Machine.KernelMachine.Iommu, g))]);
        var machine = KernelBackend.Machine.KernelMachine.From(KernelBackend.Machine.KernelMachine.Config, topology, out var reason);
        Assert.True(machine is not null, reason);
        Assert.NotEqual(KernelBackend.Machine.KernelMachine.Fixed.Key, machine.Key);
        var era = Era;
        var boots = fixture.Guests.Boots.Count;
        var binding = new KernelBinding(fixture.Guests, era);
        for (var seed = 2000UL; seed < 2004; seed++)
        {
            var report = CaseExecutor.Run(KernelGen.Generate(seed, topology, maxSteps: 20, era), binding, CheckMode.Full);
            Assert.True(report.Conformant, $"seed {seed}: {report.Problem?.Message}");
        }
        Assert.Equal(machine.Key, fixture.Guests.Live?.Machine.Key);
        Assert.Equal([machine.Key], fixture.Guests.Boots.Skip(boots).Select(b => b.Key)); // one boot served every trace
        // The second bridge's group (n5, n6: 0000:02:00.0 behind 0000:00:04.0) is claimed through VFIO and released.
        var claim = new Trace("claim behind the second bridge", [], KernelBackend.Machine.KernelMachine.Config with { Era = era }, topology,
        [
            new TraceStep(new BusProbe(BusNames.Pci), null), new TraceStep(new ClaimGroupDmaOwner("n5", "o1"), null),
            new TraceStep(new GroupTypeWrite("n6", "identity"), null), new TraceStep(new ReleaseGroupDmaOwner("n6"), null),
            new TraceStep(new GroupTypeWrite("n6", "identity"), null), new TraceStep(new GroupTypeRead("n5"), null),
        ]);
        var claimed = CaseExecutor.Run(claim, binding, CheckMode.Full);
        Assert.True(claimed.Conformant, claimed.Problem?.Message);
        Assert.Equal([machine.Key], fixture.Guests.Boots.Skip(boots).Select(b => b.Key));
        if (era == KernelEra.V7_0) Assert.Equal("identity", claimed.Steps[^1].ModelOutcome.Value); // 6.1: EINVAL, a group of two
    }
}
