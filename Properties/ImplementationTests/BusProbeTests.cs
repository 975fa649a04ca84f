using IommuConformance.Contract;
using IommuConformance.Implementations;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>bus_iommu_probe() in the implementation, side by side with the model, and what it leaves in the snapshot.</summary>
public class BusProbeTests
{
    private static Topology Of(IommuSpec[] iommus, params DeviceSpec[] devices) => new([.. iommus], [.. devices]);

    private static Outcome Warned(Errno errno, params string[] warnings) => new(errno, null, [.. warnings]);

    [Fact]
    public void The_deferred_setup_sees_every_member()
    {
        var topology = Of([Smmu0], Pci("a"), Pci("b") with { DefDomainType = "identity" }, Pci("c") with { DefDomainType = "DMA" },
            new DeviceSpec("bare", BusNames.Pci, null, "g9"), Platform("p", "smmu0", "g1"));
        var outcomes = SideBySide.Run(SystemConfig.Default, topology, new BusProbe(BusNames.Pci), new GroupTypeRead("c"),
            new Probe("bare"), new GroupTypeRead("p"), new BusProbe(BusNames.Platform), new GroupTypeRead("p"));
        Assert.Equal([Outcome.Ok, Outcome.OkWith("identity"), Outcome.Of(Errno.ENODEV), Outcome.Of(Errno.ENODEV),
            Outcome.Ok, Outcome.OkWith("DMA-FQ")], outcomes);

        var system = IommuSystem.Create(SystemConfig.Default, topology, []);
        system.Run(new BusProbe(BusNames.Pci));
        var group = Assert.Single(system.Snapshot().Groups);
        Assert.Equal(["a", "b", "c"], group.Members.ToArray());
        Assert.All(system.Snapshot().Devices.Where(d => d.GroupId is not null), d => Assert.Equal(HwContextKind.Bypass, d.Context.Kind));
    }

    [Fact]
    public void Bound_drivers_warn_late_probe_in_bus_and_hotplug_probe()
    {
        var topology = Of([Smmu0], Pci("a"), Pci("b", group: "g1"), Platform("p", "smmu0", "g2"));
        var outcomes = SideBySide.Run(SystemConfig.Default, topology, new DriverBind("b"), new DriverBind("p"),
            new BusProbe(BusNames.Pci), new Probe("p"), new Probe("p"), new DriverUnbind("p"));
        Assert.Equal([Outcome.Ok, Outcome.Ok, Warned(Errno.OK, Warn.LateProbeAtDriverBind),
            Warned(Errno.OK, Warn.LateProbeAtDriverBind), Outcome.Ok, Warned(Errno.OK, Warn.UnuseDefaultDomainUnbalanced)], outcomes);
    }

    [Fact]
    public void A_late_probe_that_then_fails_has_warned_already()
    {
        // The dev_WARN comes right after the driver accepted the device, before it joins the claimed group.
        var topology = Of([Smmu0], Pci("own"), Pci("rd") with { RequireDirect = true });
        var outcomes = SideBySide.Run(SystemConfig.Default, topology, new Probe("own"), new ClaimGroupDmaOwner("own", "o1"),
            new DriverBind("rd"), new Probe("rd"));
        Assert.Equal(Warned(Errno.EINVAL, Warn.LateProbeAtDriverBind), outcomes[^1]);
    }

    [Fact]
    public void An_abort_leaves_queued_groups_without_a_default_domain_until_a_hot_add()
    {
        var topology = Of([Smmu0], Pci("u", group: "g0") with { Untrusted = true, DefDomainType = "identity" },
            Pci("x", group: "g1"), Platform("y", "smmu0", "g1"));
        var outcomes = SideBySide.Run(SystemConfig.Default, topology, new BusProbe(BusNames.Pci), new DriverBind("x"),
            new GroupTypeRead("x"), new GetDomain("x"), new Probe("y"), new GroupTypeRead("x"), new DriverBind("x"));
        Assert.Equal([Outcome.Of(Errno.EINVAL), Outcome.Of(Errno.EPROBE_DEFER), Outcome.OkWith("unknown"),
            Outcome.OkWith("none"), Outcome.Ok, Outcome.OkWith("DMA-FQ"), Outcome.Ok], outcomes);
    }

    [Fact]
    public void An_abort_in_the_probe_phase_sets_nothing_up()
    {
        var topology = Of([Smmu0], Pci("own"), Pci("x", group: "g1"), Pci("rd") with { RequireDirect = true }, Pci("late", group: "g2"));
        var system = IommuSystem.Create(SystemConfig.Default, topology, []);
        var outcomes = SideBySide.Run(SystemConfig.Default, topology, new Probe("own"), new ClaimGroupDmaOwner("own", "o1"),
            new BusProbe(BusNames.Pci), new GroupTypeRead("x"), new GroupTypeRead("late"));
        Assert.Equal([Outcome.Of(Errno.EINVAL), Outcome.OkWith("unknown"), Outcome.Of(Errno.ENODEV)], outcomes[2..]);

        system.Run(new Probe("own"), new ClaimGroupDmaOwner("own", "o1"), new BusProbe(BusNames.Pci));
        var x = system.Snapshot().Groups.Single(g => g.Members.Contains("x"));
        Assert.Null(x.DefaultDomainId);
        Assert.Null(x.DomainId);
    }

    [Fact]
    public void A_group_without_a_default_is_never_sent_back_to_NULL()
    {
        var topology = Of([Smmu0], Pci("u", group: "g0") with { Untrusted = true, DefDomainType = "identity" }, Pci("x", group: "g1"));
        var outcomes = SideBySide.Run(SystemConfig.Default, topology, new BusProbe(BusNames.Pci),
            new DomainAllocPaging("x", "d1"), new DetachGroup("d1", "x"), new ClaimDmaOwner("x", "o1"), new GetDomain("x"),
            new ReleaseDmaOwner("x"), new AttachGroup("d1", "x"), new DetachGroup("d1", "x"), new GetDomain("x"),
            new Release("x"), new Release("u"), new DomainFree("d1"));
        Assert.Equal([Outcome.Of(Errno.EINVAL), Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.OkWith("blocking"),
            Warned(Errno.OK, Warn.SetDomainNullDomain, Warn.SetDomainNoFailFailed), Outcome.Ok,
            Warned(Errno.OK, Warn.SetDomainNullDomain, Warn.SetDomainNoFailFailed), Outcome.OkWith("d1"),
            Warned(Errno.OK, Warn.ReleaseDeviceGroupInUse), Outcome.Ok, Outcome.Ok], outcomes);
    }

    [Fact]
    public void Mock_first_attach_failures_keep_the_static_default()
    {
        var topology = Of([Mock0], Platform("own", "mock0", "g0"), Platform("m", "mock0", "g1"),
            Platform("rdj", "mock0", "g0") with { RequireDirect = true }, Platform("rd1", "mock0", "g1") with { RequireDirect = true });
        var outcomes = SideBySide.Run(SystemConfig.Default, topology, new Probe("own"), new ClaimDmaOwner("own", "o1"),
            new BusProbe(BusNames.Platform), new GroupTypeRead("m"), new Probe("rd1"), new GroupTypeRead("m"), new GetDomain("m"));
        Assert.Equal([Outcome.Of(Errno.EINVAL), Outcome.OkWith("unknown"), Warned(Errno.EINVAL, Warn.DefaultDomainFirstAttachFailed),
            Outcome.OkWith("blocked"), Outcome.OkWith("default")], outcomes[2..]);

        var both = Of([Mock0], Platform("rd", "mock0", "g0") with { RequireDirect = true }, Platform("m", "mock0", "g0"));
        Assert.Equal([Warned(Errno.EINVAL, Warn.DefaultDomainFirstAttachFailed), Outcome.OkWith("blocked")],
            SideBySide.Run(SystemConfig.Default, both, new BusProbe(BusNames.Platform), new GroupTypeRead("rd")));
    }
}
