using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.KernelBackend;
using IommuConformance.KernelBackend.Machine;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>Machines (the fixed one and generated ones), the reachability table and the kernel generator, without a guest.</summary>
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
    public void A_machine_qemu_cannot_express_is_refused_with_the_reason()
    {
        var topology = KernelMachine.Fixed.Topology;
        Assert.Contains("config", KernelMachine.Mismatch(SystemConfig.Default, topology));
        // Other machines QEMU can express are booted as they come (KernelGuestCache): no mismatch.
        Assert.Null(KernelMachine.Mismatch(KernelMachine.Config, topology with { Devices = topology.Devices[..2] }));
        var regrouped = topology with { Devices = topology.Devices.SetItem(5, topology.Devices[5] with { Group = "other" }) };
        Assert.Null(KernelMachine.Mismatch(KernelMachine.Config, regrouped));
        var flagged = topology with { Devices = topology.Devices.SetItem(0, topology.Devices[0] with { Untrusted = true }) };
        Assert.Contains("no flags", KernelMachine.Mismatch(KernelMachine.Config, flagged));
        var renamed = topology with { Devices = [.. topology.Devices.Select(d => d with { Name = "x" + d.Name })] };
        Assert.Null(KernelMachine.Mismatch(KernelMachine.Config, renamed));
    }

    private static Topology Machine(params string[] groups) =>
        new([new IommuSpec(KernelMachine.Iommu, DriverNames.Smmuv3, IommuOptions.None)],
            [.. groups.Select((g, i) => new DeviceSpec($"d{i}", BusNames.Pci, KernelMachine.Iommu, g))]);

    [Fact]
    public void The_fixed_machine_is_the_mapping_of_its_own_topology()
    {
        var fixedMachine = KernelMachine.Fixed;
        Assert.Equal(["e1000e", "virtio-net-pci", "edu", "pcie-pci-bridge,id=br1", "edu,bus=br1,addr=0", "e1000,bus=br1,addr=1"],
            fixedMachine.Devices.Select(d => d.QemuDevice));
        Assert.Equal(["0000:00:01.0", "0000:00:02.0", "0000:00:03.0", "0000:00:04.0", "0000:01:00.0", "0000:01:01.0"],
            fixedMachine.Devices.Select(d => d.Bdf));
        Assert.Equal(["e1000e", "virtio-pci", null, null, null, "e1000"], fixedMachine.Devices.Select(d => d.Driver));
        // Names are free: a renamed copy is the same QEMU machine (one guest serves both).
        var renamed = KernelMachine.From(KernelMachine.Config, Machine("a", "b", "c", "d", "d", "d"), out _);
        Assert.Equal(fixedMachine.Key, renamed!.Key);
    }

    [Fact]
    public void Groups_map_onto_root_devices_and_bridges_in_trace_order()
    {
        // A multi-device group first, interleaved members, two bridges: bridges take buses 1 and 2 in slot order.
        var machine = KernelMachine.From(KernelMachine.Config with { Era = KernelEra.V6_1 }, Machine("x", "y", "x", "z", "z", "z", "w"), out var reason);
        Assert.True(machine is not null, reason);
        Assert.Equal(["pcie-pci-bridge,id=br1", "e1000e", "edu,bus=br1,addr=0", "pcie-pci-bridge,id=br2", "edu,bus=br2,addr=0", "e1000,bus=br2,addr=1", "virtio-net-pci"],
            machine.Devices.Select(d => d.QemuDevice));
        Assert.Equal(["0000:00:01.0", "0000:00:02.0", "0000:01:00.0", "0000:00:03.0", "0000:02:00.0", "0000:02:01.0", "0000:00:04.0"],
            machine.Devices.Select(d => d.Bdf));
        Assert.True(machine.Devices[0].Bridge);
        // The command line creates each bridge before what sits behind it.
        var args = QemuCommand.Arguments("K", "I", "C", "S", machine).ToList();
        Assert.True(args.IndexOf("pcie-pci-bridge,id=br2") < args.IndexOf("edu,bus=br2,addr=0"));
        Assert.Equal(machine.Devices.Length + 1, args.Count(a => a == "-device"));
        Assert.NotEqual(KernelMachine.Fixed.Key, machine.Key);
    }

    [Fact]
    public void Topologies_qemu_cannot_express_are_refused_with_the_reason()
    {
        string Refused(SystemConfig config, Topology topology)
        {
            Assert.Null(KernelMachine.From(config, topology, out var reason));
            return reason;
        }
        var one = Machine("g0");
        Assert.Contains("config", Refused(SystemConfig.Default, one));
        Assert.Contains("one intel-iommu", Refused(KernelMachine.Config, one with { Iommus = [.. one.Iommus, new IommuSpec("v2", DriverNames.Smmuv3, IommuOptions.None)] }));
        Assert.Contains("one intel-iommu", Refused(KernelMachine.Config, one with { Iommus = [new IommuSpec(KernelMachine.Iommu, DriverNames.Mock, IommuOptions.None)] }));
        Assert.Contains("platform bus", Refused(KernelMachine.Config, one with { Devices = [one.Devices[0] with { Bus = BusNames.Platform }] }));
        Assert.Contains("behind vtd", Refused(KernelMachine.Config, one with { Devices = [one.Devices[0] with { Iommu = null }] }));
        Assert.Contains("no flags", Refused(KernelMachine.Config, one with { Devices = [one.Devices[0] with { RequireDirect = true }] }));
        Assert.Contains("at least one device", Refused(KernelMachine.Config, one with { Devices = [] }));
        Assert.Contains("free slots", Refused(KernelMachine.Config, Machine([.. Enumerable.Range(0, 31).Select(i => $"g{i}")])));
        Assert.Contains("at most 32 behind it", Refused(KernelMachine.Config, Machine([.. Enumerable.Repeat("big", 34)])));
        Assert.NotNull(KernelMachine.From(KernelMachine.Config, Machine([.. Enumerable.Range(0, 30).Select(i => $"g{i}")]), out _));
        Assert.NotNull(KernelMachine.From(KernelMachine.Config, Machine([.. Enumerable.Repeat("big", 33)]), out _));
    }

    [Fact]
    public void The_qemu_command_line_creates_every_device_once()
    {
        var args = QemuCommand.Arguments("K", "I", "C", "S");
        Assert.Equal(KernelMachine.Fixed.Devices.Length + 1, args.Count(a => a == "-device"));
        Assert.Contains("intel-iommu,intremap=on,caching-mode=on,aw-bits=48", args);
        Assert.Contains("unix:S,server=on,wait=on", args);
    }

    [Fact]
    public void Reach_starts_with_the_boot_bus_probe_and_refuses_what_userspace_cannot_do()
    {
        var reach = new Reach(KernelMachine.Fixed);
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
            var reach = new Reach(KernelMachine.Fixed);
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

    [Fact]
    public void Generated_kernel_traces_draw_the_vfio_domain_steps()
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var seed = 0UL; seed < 60; seed++)
            foreach (var step in Executor.RunFull(KernelGen.Generate(seed)).Steps)
            {
                var key = step.Op switch
                {
                    Unmap => step.ModelOutcome.Value == "0x0" ? "unmap 0" : "unmap bytes",
                    _ => $"{step.Op.Name} {step.ModelOutcome.Errno}",
                };
                seen[key] = seen.GetValueOrDefault(key) + 1;
            }
        foreach (var want in new[] { "domain_alloc_paging OK", "attach_group OK", "attach_device OK", "map OK", "map EINVAL", "unmap bytes", "device_dma OK", "device_dma EIO" })
            Assert.True(seen.GetValueOrDefault(want) >= 3, $"{want}: {seen.GetValueOrDefault(want)} in 60 traces ({string.Join(", ", seen.Select(p => $"{p.Key} {p.Value}"))})");
        Assert.False(seen.ContainsKey("unmap 0"), "an unmap of nothing is not reachable (VFIO answers it without iommu_unmap)");
        Assert.False(seen.ContainsKey("attach_group ENODEV") || seen.ContainsKey("attach_device ENODEV"), "an attach through an absent device is not reachable");
    }

    [Fact]
    public void Vfio_domains_admit_only_what_type1_and_the_model_answer_alike()
    {
        var reach = new Reach(KernelMachine.Fixed);
        reach.Update(new BusProbe(BusNames.Pci), -1, Errno.OK);
        Assert.Contains("claim_group_dma_owner first", reach.Refusal(new DomainAllocPaging("dev2", "d1"), 2));
        reach.Update(new ClaimGroupDmaOwner("dev2", "o1"), 2, Errno.OK);
        Assert.Contains("flags", reach.Refusal(new DomainAllocPaging("dev2", "d1", AllocFlags.DirtyTracking), 2));
        Assert.Contains("not yet attached", reach.Refusal(new AttachGroup("d1", "dev2"), 2));
        Assert.Null(reach.Refusal(new DomainAllocPaging("dev2", "d1"), 2));
        reach.Update(new DomainAllocPaging("dev2", "d1"), 2, Errno.OK);
        Assert.Contains("once per container", reach.Refusal(new DomainAllocPaging("dev2", "d2"), 2));
        Assert.Contains("only while attached", reach.Refusal(new Map("d1", 0, 0, 4096, "rw"), -1));
        Assert.Null(reach.Refusal(new AttachDevice("d1", "dev2"), 2));
        Assert.Contains("groups", reach.Refusal(new AttachDevice("d1", "dev4"), 4));
        reach.Update(new AttachGroup("d1", "dev2"), 2, Errno.OK);
        Assert.Contains("DMA ownership", reach.Refusal(new DetachGroup("d1", "dev2"), 2));
        Assert.Contains("frees", reach.Refusal(new DomainFree("d1"), -1));

        Assert.Null(reach.Refusal(new Map("d1", 0x10000, 0x2000, 0x3000, "rw"), -1));
        Assert.Null(reach.Refusal(new Map("d1", 0x10001, 0x2000, 0x3000, "rw"), -1)); // malformed: EINVAL on both sides
        Assert.Null(reach.Refusal(new Map("d1", 0x10000, 0x2000, 0, "rw"), -1));
        Assert.Contains("READ and WRITE", reach.Refusal(new Map("d1", 0x10000, 0x2000, 0x1000, "rwc"), -1));
        Assert.Contains("MSI", reach.Refusal(new Map("d1", 0xfedff000, 0, 0x2000, "rw"), -1));
        Assert.Contains("aperture", reach.Refusal(new Map("d1", 1UL << 48, 0, 0x1000, "rw"), -1));
        Assert.Null(reach.Refusal(new Map("d1", (1UL << 48) - 0x1000, 0, 0x1000, "rw"), -1));
        Assert.Contains("MiB", reach.Refusal(new Map("d1", 0, 0, 8UL << 20, "rw"), -1));
        reach.Update(new Map("d1", 0x10000, 0x2000, 0x3000, "rw"), -1, Errno.OK);
        reach.Update(new Map("d1", 0x13000, 0x2000, 0x1000, "r"), -1, Errno.OK);
        reach.Update(new Map("d1", 0x20000, 0x2000, 0x1000, "r"), -1, Errno.OK);
        Assert.Contains("overlap", reach.Refusal(new Map("d1", 0x12000, 0, 0x1000, "rw"), -1));

        Assert.Contains("zero-size", reach.Refusal(new Unmap("d1", 0x10000, 0), -1));
        Assert.Contains("unaligned", reach.Refusal(new Unmap("d1", 0x10000, 0x800), -1));
        Assert.Contains("nothing", reach.Refusal(new Unmap("d1", 0x40000, 0x1000), -1));
        Assert.Contains("bisects", reach.Refusal(new Unmap("d1", 0x11000, 0x1000), -1));
        Assert.Contains("bisects", reach.Refusal(new Unmap("d1", 0x10000, 0x1000), -1));
        Assert.Contains("holes", reach.Refusal(new Unmap("d1", 0x10000, 0x11000), -1));
        Assert.Contains("holes", reach.Refusal(new Unmap("d1", 0xf000, 0x5000), -1));
        Assert.Null(reach.Refusal(new Unmap("d1", 0x10000, 0x4000), -1)); // two adjacent maps, whole
        reach.Update(new Unmap("d1", 0x10000, 0x4000), -1, Errno.OK);
        Assert.Equal([(0x20000UL, 0x1000UL)], reach.Domains.Maps("d1"));

        // The release frees the domain in type1: its handle is no longer reachable, nor reusable.
        reach.Update(new ReleaseGroupDmaOwner("dev2"), 2, Errno.OK);
        Assert.Contains("only while attached", reach.Refusal(new Unmap("d1", 0x20000, 0x1000), -1));
        reach.Update(new ClaimGroupDmaOwner("dev2", "o1"), 2, Errno.OK);
        Assert.Contains("used before", reach.Refusal(new DomainAllocPaging("dev2", "d1"), 2));
        Assert.Contains("not yet attached", reach.Refusal(new AttachGroup("d1", "dev2"), 2));
    }

    private static KernelMachine Booted(Topology topology) =>
        KernelMachine.From(KernelMachine.Config, topology, out var reason) ?? throw new Xunit.Sdk.XunitException(reason);

    [Fact]
    public void Generated_machines_are_bootable_deterministic_and_cover_the_shapes()
    {
        var groupCounts = new HashSet<int>();
        var sizes = new HashSet<int>();
        for (var seed = 0UL; seed < 200; seed++)
        {
            var topology = KernelGen.Machine(seed);
            Assert.Equal(topology, KernelGen.Machine(seed));
            var machine = Booted(topology);
            var groups = topology.Devices.GroupBy(d => d.Group).ToList();
            Assert.InRange(groups.Count, 1, 4);
            foreach (var g in groups)
            {
                Assert.InRange(g.Count(), 1, 3);
                sizes.Add(g.Count());
                // A group of more than one is a bridge (its first device) with the rest behind it.
                var members = machine.Devices.Where(d => d.Spec.Group == g.Key).ToList();
                Assert.Equal(g.Count() > 1, members[0].Bridge);
                Assert.All(members.Skip(1), d => Assert.False(d.Bdf.StartsWith("0000:00:", StringComparison.Ordinal), d.Bdf));
            }
            groupCounts.Add(groups.Count);
            Assert.Equal(topology.Devices.Length, machine.Devices.Select(d => d.Bdf).Distinct().Count());
        }
        Assert.Equal([1, 2, 3, 4], groupCounts.Order());
        Assert.Equal([1, 2, 3], sizes.Order());
        var pool = KernelGen.Machines(7, 8);
        Assert.Equal(pool, KernelGen.Machines(7, 8));
        Assert.Equal(8, pool.Select(t => Booted(t).Key).Distinct().Count());
    }

    [Fact]
    public void Reach_follows_the_machine_not_the_fixed_one()
    {
        // One e1000e alone: nothing to open a VFIO group by.
        var lone = new Reach(Booted(Machine("a")));
        lone.Update(new BusProbe(BusNames.Pci), -1, Errno.OK);
        Assert.Null(lone.Refusal(new DriverBind("d0"), 0));
        Assert.Contains("edu", lone.Refusal(new ClaimGroupDmaOwner("d0", "o1"), 0));

        // A bridge with an edu behind it, then a root e1000e and a root virtio-net (kinds by root position).
        var machine = Booted(Machine("x", "x", "y", "z"));
        Assert.Equal(["pcie-pci-bridge,id=br1", "edu,bus=br1,addr=0", "e1000e", "virtio-net-pci"], machine.Devices.Select(d => d.QemuDevice));
        var reach = new Reach(machine);
        reach.Update(new BusProbe(BusNames.Pci), -1, Errno.OK);
        Assert.Contains("bridge", reach.Refusal(new Release("d0"), 0));
        Assert.Contains("no DMA-API kernel driver", reach.Refusal(new DriverBind("d0"), 0));
        Assert.Null(reach.Refusal(new DriverBind("d3"), 3));
        Assert.Equal(1, reach.StandIn(0));
        Assert.Null(reach.Refusal(new ClaimGroupDmaOwner("d0", "o1"), 0));
        Assert.Contains("edu", reach.Refusal(new ClaimGroupDmaOwner("d2", "o1"), 2));
        reach.Update(new Release("d1"), 1, Errno.OK);
        Assert.Equal(-1, reach.StandIn(0));
        Assert.Contains("edu", reach.Refusal(new ClaimGroupDmaOwner("d0", "o1"), 0));
        Assert.Contains("rescan", reach.Refusal(new Probe("d2"), 2));
        Assert.Null(reach.Refusal(new Probe("d1"), 1));
    }

    [Fact]
    public void Generated_traces_over_generated_machines_are_reachable_deterministic_and_conform_on_the_implementation()
    {
        foreach (var (topology, m) in KernelGen.Machines(3, 24).Select((t, m) => (t, m)))
        {
            var machine = Booted(topology);
            for (var seed = 0UL; seed < 3; seed++)
            {
                var trace = KernelGen.Generate(seed, topology, maxSteps: 30);
                Assert.Equal(trace, KernelGen.Generate(seed, topology, maxSteps: 30));
                Assert.Equal(topology, trace.Topology);
                var report = Executor.RunFull(trace);
                Assert.True(report.Conformant, $"machine {m}, seed {seed}: {report.Problem?.Message}");
                var reach = new Reach(machine);
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

    [Fact]
    public void The_generator_refuses_a_topology_that_is_no_machine()
    {
        var e = Assert.Throws<ArgumentException>(() => KernelGen.Generate(1, Machine("a") with { Devices = [] }));
        Assert.Contains("at least one device", e.Message);
    }
}
