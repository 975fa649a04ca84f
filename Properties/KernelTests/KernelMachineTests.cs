using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.KernelBackend;
using IommuConformance.KernelBackend.Machine;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>The fixed machine, the reachability table and the kernel generator, without a guest.</summary>
public class KernelMachineTests
{
    public static TheoryData<string> KernelSamples() =>
        [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "traces", "kernel"), "*.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(AppContext.BaseDirectory, "traces", "kernel"), f)).Order()];

    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "traces", "kernel", name);

    [Theory]
    [MemberData(nameof(KernelSamples))]
    public void Kernel_samples_are_the_fixed_machine_and_conform_on_the_implementation(string name)
    {
        var trace = TraceJson.ReadFile(Sample(name));
        Assert.Null(KernelMachine.Mismatch(trace.Config, trace.Topology));
        if (trace.Config.Era != KernelEra.V7_0)
        {
            // The implementation is 7.0-era only: a 6.1 sample's expects are the 6.1 model's answers.
            Assert.StartsWith("era-6.1", name, StringComparison.Ordinal);
            var state = ModelState.Initial(trace.Config, trace.Topology);
            foreach (var (step, i) in trace.Steps.Select((s, i) => (s, i)))
            {
                var next = state.Step(step.Op);
                Assert.True(step.Expect is { } e && e.Errno == next.Outcome.Errno && (e.Value is null || e.Value == next.Outcome.Value),
                    $"{name}: step {i} ({step.Op}): the 6.1 model answers {next.Outcome}");
                state = next.Next;
            }
            return;
        }
        var report = Executor.RunFull(trace);
        Assert.True(report.Conformant, report.Problem?.Message);
    }

    [Fact]
    public void Another_machine_is_refused_with_the_reason()
    {
        var topology = KernelMachine.Topology;
        Assert.Contains("config", KernelMachine.Mismatch(SystemConfig.Default, topology));
        Assert.Contains("6 devices", KernelMachine.Mismatch(KernelMachine.Config, topology with { Devices = topology.Devices[..2] }));
        var regrouped = topology with { Devices = topology.Devices.SetItem(5, topology.Devices[5] with { Group = "other" }) };
        Assert.Contains("share a group", KernelMachine.Mismatch(KernelMachine.Config, regrouped));
        var flagged = topology with { Devices = topology.Devices.SetItem(0, topology.Devices[0] with { Untrusted = true }) };
        Assert.Contains("no flags", KernelMachine.Mismatch(KernelMachine.Config, flagged));
        var renamed = topology with { Devices = [.. topology.Devices.Select(d => d with { Name = "x" + d.Name })] };
        Assert.Null(KernelMachine.Mismatch(KernelMachine.Config, renamed));
    }

    [Fact]
    public void The_qemu_command_line_creates_every_device_once()
    {
        var args = QemuCommand.Arguments("K", "I", "C", "S");
        Assert.Equal(KernelMachine.Devices.Length + 1, args.Count(a => a == "-device"));
        Assert.Contains("intel-iommu,intremap=on,caching-mode=on", args);
        Assert.Contains("unix:S,server=on,wait=on", args);
    }

    [Fact]
    public void Reach_starts_with_the_boot_bus_probe_and_refuses_what_userspace_cannot_do()
    {
        var reach = new Reach();
        Assert.NotNull(reach.Refusal(new GroupTypeRead("dev0"), 0));
        Assert.Null(reach.Refusal(new BusProbe(BusNames.Pci), -1));
        reach.Update(new BusProbe(BusNames.Pci), -1, Errno.OK);
        Assert.Null(reach.Refusal(new DriverBind("dev0"), 0));
        Assert.Contains("no DMA-API kernel driver", reach.Refusal(new DriverBind("dev2"), 2));
        Assert.Contains("bridge", reach.Refusal(new Release("dev3"), 3));
        Assert.Contains("IOMMUFD", reach.Refusal(new ClaimDmaOwner("dev0", "o1"), 0));
        Assert.Contains("owner", reach.Refusal(new ClaimGroupDmaOwner("dev2", null), 2));
        Assert.Contains("edu", reach.Refusal(new ClaimGroupDmaOwner("dev0", "o1"), 0));
        Assert.NotNull(reach.Refusal(new ReleaseGroupDmaOwner("dev2"), 2));
        Assert.NotNull(reach.Refusal(new DomainAllocPaging("dev0", "d1", null), 0));

        reach.Update(new ClaimGroupDmaOwner("dev5", "o1"), 5, Errno.OK);
        Assert.Null(reach.Refusal(new ReleaseGroupDmaOwner("dev4"), 4));
        Assert.Contains("VFIO", reach.Refusal(new Release("dev5"), 5));
        Assert.NotNull(reach.Refusal(new ClaimGroupDmaOwner("dev3", "o2"), 3));
        reach.Update(new ReleaseGroupDmaOwner("dev4"), 4, Errno.OK);

        reach.Update(new Release("dev0"), 0, Errno.OK);
        reach.Update(new Release("dev1"), 1, Errno.OK);
        Assert.Contains("rescan", reach.Refusal(new Probe("dev0"), 0));
        Assert.NotNull(reach.Refusal(new GroupTypeRead("dev0"), 0));
        reach.Update(new BusProbe(BusNames.Pci), -1, Errno.OK);
        Assert.True(reach.Present(0) && reach.Present(1));
    }

    [Fact]
    public void Generated_kernel_traces_are_reachable_deterministic_and_conform_on_the_implementation()
    {
        for (var seed = 0UL; seed < 60; seed++)
        {
            var trace = KernelGen.Generate(seed);
            Assert.Equal(trace, KernelGen.Generate(seed));
            Assert.IsType<BusProbe>(trace.Steps[0].Op);
            var report = Executor.RunFull(trace);
            Assert.True(report.Conformant, $"seed {seed}: {report.Problem?.Message}");
            // Every step passes the reachability rules on the model's own errnos.
            var reach = new Reach();
            var index = trace.Topology.Devices.Select((d, i) => (d.Name, i)).ToDictionary(p => p.Name, p => p.i);
            foreach (var step in report.Steps)
            {
                var devArg = step.Op.Spec.IndexOf(Args.Dev.Field);
                var device = devArg < 0 ? -1 : index[step.Op.Values[devArg].Text!];
                Assert.Null(reach.Refusal(step.Op, device));
                reach.Update(step.Op, device, step.ModelOutcome.Errno);
            }
        }
    }
}
