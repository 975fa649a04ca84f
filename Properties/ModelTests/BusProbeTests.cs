using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.ModelTests.ModelSession;

namespace IommuConformance.Properties.ModelTests;

/// <summary>b.1 bus_iommu_probe: every device of the bus probed with deferred setup, then each new group set up from all its members.</summary>
public sealed class BusProbeTests
{
    private static DeviceSpec Pci(string name, string group = "g0", string iommu = "smmu0") => new(name, BusNames.Pci, iommu, group);

    // One group whose members want nothing, identity and DMA: the conflict resolves to identity.
    private static readonly DeviceSpec[] Mixed =
        [Pci("a"), Pci("b") with { DefDomainType = GroupTypeStrings.Identity }, Pci("c") with { DefDomainType = GroupTypeStrings.Dma }];

    [Fact]
    public void The_type_is_chosen_from_every_member()
    {
        Of([Smmu()], Mixed)
            .Ok(new BusProbe(BusNames.Pci))
            .Expect(new GroupTypeRead("a"), Errno.OK, GroupTypeStrings.Identity)
            .Expect(new GetDomain("c"), Errno.OK, DomainNames.Default);
        // Hot-add decides from the first device alone.
        Of([Smmu()], Mixed)
            .Ok(new Probe("a")).Ok(new Probe("b")).Ok(new Probe("c"))
            .Expect(new GroupTypeRead("c"), Errno.OK, GroupTypeStrings.DmaFq);
    }

    [Fact]
    public void Devices_without_an_iommu_or_refused_by_the_driver_stay_unprobed_and_others_are_skipped()
    {
        var s = Of([Smmu(), Mock()], [Pci("a"), Pci("bare") with { Iommu = null }, Pci("m", iommu: "mock0"),
                new DeviceSpec("p", BusNames.Platform, "smmu0", "g1"), Pci("b", "g2")])
            .Ok(new Probe("b"))
            .Ok(new BusProbe(BusNames.Pci))
            .Ok(new BusProbe(BusNames.Pci));
        Assert.True(s.State.IsProbed("a"));
        Assert.False(s.State.IsProbed("bare") || s.State.IsProbed("m") || s.State.IsProbed("p"));
        s.Ok(new BusProbe(BusNames.Platform));
        Assert.True(s.State.IsProbed("p"));
    }

    [Fact]
    public void A_device_with_a_driver_already_bound_warns_and_is_probed()
    {
        var s = Of([Smmu()], [Pci("a"), Pci("b", "g1")])
            .Ok(new DriverBind("b"))
            .Expect(new BusProbe(BusNames.Pci), Errno.OK, null, Warn.LateProbeAtDriverBind);
        Assert.True(s.State.IsProbed("b"));
        s.Expect(new DriverUnbind("b"), Errno.OK, null, Warn.UnuseDefaultDomainUnbalanced);
    }

    [Fact]
    public void A_refused_join_aborts_before_any_setup()
    {
        // rd joins a claimed group and refuses its blocking domain: the bus probe stops there, the queued group
        // of x keeps its member without a default domain.
        var s = Of([Smmu()], [Pci("own", "g0"), Pci("x", "g1"), Pci("rd", "g0") with { RequireDirect = true }, Pci("late", "g2")])
            .Ok(new Probe("own"))
            .Ok(new ClaimGroupDmaOwner("own", "o1"))
            .ExpectLeftover(new BusProbe(BusNames.Pci), Errno.EINVAL);
        Assert.True(s.State.IsProbed("x"));
        Assert.False(s.State.IsProbed("rd") || s.State.IsProbed("late"));
        s.Expect(new GroupTypeRead("x"), Errno.OK, GroupTypeStrings.Unknown)
            .Expect(new GetDomain("x"), Errno.OK, DomainNames.None)
            .Expect(new DriverBind("x"), Errno.EPROBE_DEFER)
            .Expect(new GroupTypeWrite("x", GroupTypeStrings.Dma), Errno.EINVAL);
    }

    [Fact]
    public void A_failed_setup_aborts_and_later_groups_wait_for_a_hot_add()
    {
        // Group g0 wants identity for an untrusted PCI device: EINVAL. Group g1, queued after it, is left alone.
        var s = Of([Smmu()], [Pci("u", "g0") with { Untrusted = true, DefDomainType = GroupTypeStrings.Identity },
                Pci("x", "g1"), new DeviceSpec("y", BusNames.Platform, "smmu0", "g1")])
            .ExpectLeftover(new BusProbe(BusNames.Pci), Errno.EINVAL)
            .Expect(new GroupTypeRead("u"), Errno.OK, GroupTypeStrings.Unknown)
            .Expect(new GroupTypeRead("x"), Errno.OK, GroupTypeStrings.Unknown)
            .Expect(new DriverBind("x"), Errno.EPROBE_DEFER)
            .Expect(new Probe("y"), Errno.OK)
            .Expect(new GroupTypeRead("x"), Errno.OK, GroupTypeStrings.DmaFq)
            .Ok(new DriverBind("x"));
        Assert.Equal(["x", "y"], s.State.GroupMembers("y"));
    }

    [Fact]
    public void A_group_without_a_default_domain_is_parked_and_never_sent_back_to_NULL()
    {
        Of([Smmu()], [Pci("u", "g0") with { Untrusted = true, DefDomainType = GroupTypeStrings.Identity }, Pci("x", "g1")])
            .ExpectLeftover(new BusProbe(BusNames.Pci), Errno.EINVAL)
            .Ok(new DomainAllocPaging("x", "d1"))
            .Ok(new DetachGroup("d1", "x"))                       // NULL to NULL: nothing to do
            .Ok(new ClaimDmaOwner("x", "o1"))
            .Expect(new GetDomain("x"), Errno.OK, DomainNames.Blocking)
            .Expect(new ReleaseDmaOwner("x"), Errno.OK, null, Warn.SetDomainNullDomain, Warn.SetDomainNoFailFailed)
            .Expect(new GetDomain("x"), Errno.OK, DomainNames.Blocking)
            .Ok(new AttachGroup("d1", "x"))
            .Expect(new DetachGroup("d1", "x"), Errno.OK, null, Warn.SetDomainNullDomain, Warn.SetDomainNoFailFailed)
            .Expect(new Release("x"), Errno.OK, null, Warn.ReleaseDeviceGroupInUse)
            .Expect(new Release("u"), Errno.OK);
    }

    [Fact]
    public void Mock_a_refused_first_attach_keeps_the_group_on_its_static_default()
    {
        // The setup of a mock group with a requireDirect member fails under MUST_SUCCEED, but the group stays set up.
        var s = Of([Mock()], [new DeviceSpec("rd", BusNames.Platform, "mock0", "g0", RequireDirect: true),
                new DeviceSpec("m", BusNames.Platform, "mock0", "g0")])
            .ExpectLeftover(new BusProbe(BusNames.Platform), Errno.EINVAL, Warn.DefaultDomainFirstAttachFailed)
            .Expect(new GroupTypeRead("m"), Errno.OK, GroupTypeStrings.Blocked)
            .Expect(new GetDomain("rd"), Errno.OK, DomainNames.Default);
        Assert.Equal(["rd", "m"], s.State.GroupMembers("m"));
    }

    [Fact]
    public void A_hot_add_whose_first_attach_fails_leaves_the_new_default_to_the_remaining_members()
    {
        // The bus probe stops at rdj (it refuses the claimed g0's BLOCKED domain); g1 keeps m without a default.
        var s = Of([Mock()], [new DeviceSpec("own", BusNames.Platform, "mock0", "g0"),
                new DeviceSpec("m", BusNames.Platform, "mock0", "g1"),
                new DeviceSpec("rdj", BusNames.Platform, "mock0", "g0", RequireDirect: true),
                new DeviceSpec("rd1", BusNames.Platform, "mock0", "g1", RequireDirect: true)])
            .Ok(new Probe("own")).Ok(new ClaimDmaOwner("own", "o1"))
            .ExpectLeftover(new BusProbe(BusNames.Platform), Errno.EINVAL)
            .Expect(new GroupTypeRead("m"), Errno.OK, GroupTypeStrings.Unknown);
        // rd1's hot-add sets up g1 from m and rd1: rd1 refuses the BLOCKED default; it is unwound, the group keeps it.
        s.ExpectLeftover(new Probe("rd1"), Errno.EINVAL, Warn.DefaultDomainFirstAttachFailed)
            .Expect(new GroupTypeRead("m"), Errno.OK, GroupTypeStrings.Blocked)
            .Expect(new GetDomain("m"), Errno.OK, DomainNames.Default);
        Assert.False(s.State.IsProbed("rd1"));
        Assert.Equal(["m"], s.State.GroupMembers("m"));
    }
}
