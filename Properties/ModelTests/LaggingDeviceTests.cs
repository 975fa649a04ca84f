using IommuConformance.Contract;
using IommuConformance.Model.State;
using Xunit;
using static IommuConformance.Properties.ModelTests.ModelSession;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// A device a refused MUST_SUCCEED switch or revert left behind: <c>__iommu_device_set_domain</c> refuses a
/// <c>require_direct</c> device a BLOCKED or blocking domain before the driver's attach, so the device's hardware keeps
/// its old domain while <c>group->domain</c> moves (docs/operations.md "Lagging devices and DMA"). The model answers
/// <c>device_dma</c> through the domain the hardware is on.
/// </summary>
public sealed class LaggingDeviceTests
{
    private const ulong MockBase = 0x100_0000, K4 = 0x1000;

    private static DeviceSpec Plat(string name, string group = "g0", bool requireDirect = false, bool noDirty = false) =>
        new(name, BusNames.Platform, "mock0", group, RequireDirect: requireDirect, NoDirty: noDirty);

    [Fact]
    public void A_device_whose_first_attach_failed_was_never_attached()
    {
        // bus_probe: the mock's static BLOCKED default is refused under MUST_SUCCEED; the group keeps it as its domain.
        var s = Of([Mock()], [Plat("rd", requireDirect: true)])
            .ExpectLeftover(new BusProbe(BusNames.Platform), Errno.EINVAL, Warn.DefaultDomainFirstAttachFailed)
            .Expect(new GetDomain("rd"), Errno.OK, DomainNames.Default)
            .Expect(new DeviceDma("rd", 0, 1, false), Errno.EIO, DmaValues.Fault(DmaFaults.NoDomain));
        Assert.Equal(HardwareDomain.Unattached, s.State.HardwareDomainOf("rd"));
    }

    [Fact]
    public void A_refused_switch_to_the_blocked_default_leaves_the_device_translating_through_its_user_domain()
    {
        var s = Of([Mock()], [Plat("m"), Plat("rd", requireDirect: true)])
            .Ok(new Probe("m"))
            .Ok(new DomainAllocPaging("m", "d1"))
            .Ok(new Map("d1", MockBase, 0x8000, K4, "rw"))
            .Ok(new AttachGroup("d1", "m"))
            .Ok(new Probe("rd"))   // joins the group on d1
            .Expect(new DetachGroup("d1", "m"), Errno.OK, null, Warn.SetDomainNoFailFailed)
            .Expect(new GetDomain("rd"), Errno.OK, DomainNames.Default);
        Assert.Equal(DomainRef.User("d1"), s.State.HardwareDomainOf("rd")!.Domain);
        Assert.Equal(DomainRef.Default, s.State.HardwareDomainOf("m")!.Domain);
        s.Expect(new DeviceDma("rd", MockBase + 8, 8, true), Errno.OK, DmaValues.Phys(0x8008))
            .Expect(new DeviceDma("m", MockBase + 8, 8, true), Errno.EIO, DmaValues.Fault(DmaFaults.Blocked))
            // the hardware walks d1 as it is now: a later map is reached too
            .Ok(new Map("d1", MockBase + K4, 0x9000, K4, "r"))
            .Expect(new DeviceDma("rd", MockBase + K4, 4, false), Errno.OK, DmaValues.Phys(0x9000))
            // an attach both accept moves both, and the device is no longer behind
            .Ok(new DomainAllocPaging("m", "d2"))
            .Ok(new AttachGroup("d2", "m"))
            .Expect(new DeviceDma("rd", MockBase + 8, 8, true), Errno.EIO, DmaValues.Fault(DmaFaults.Translation));
        Assert.Equal(DomainRef.User("d2"), s.State.HardwareDomainOf("rd")!.Domain);
    }

    [Fact]
    public void A_device_left_on_a_domain_that_is_freed_may_answer_anything_the_test_device_can()
    {
        var s = Of([Mock()], [Plat("m"), Plat("rd", requireDirect: true)])
            .Ok(new Probe("m"))
            .Ok(new DomainAllocPaging("m", "d1"))
            .Ok(new AttachGroup("d1", "m"))
            .Ok(new Probe("rd"))
            .Expect(new DetachGroup("d1", "m"), Errno.OK, null, Warn.SetDomainNoFailFailed)
            .Ok(new DomainFree("d1"));
        Assert.True(s.State.DmaUndefined("rd"));
        Assert.False(s.State.DmaUndefined("m"));
        var dma = new DeviceDma("rd", MockBase, 4, false);
        Assert.True(s.State.Judge(dma, new Outcome(Errno.EIO, DmaValues.Fault(DmaFaults.Translation), [])).Allowed);
        Assert.True(s.State.Judge(dma, Outcome.OkWith(DmaValues.Phys(0x1234))).Allowed);
        Assert.False(s.State.Judge(dma, new Outcome(Errno.EIO, DmaValues.Fault("bogus"), [])).Allowed);
        Assert.False(s.State.Judge(dma, new Outcome(Errno.EINVAL, null, [])).Allowed);
        Assert.False(s.State.Judge(dma, new Outcome(Errno.OK, DmaValues.Phys(0), [Warn.SetDomainNoFailFailed])).Allowed);
        // bad input is judged as ever; a handle re-allocated under the same name is another domain
        Assert.False(s.State.Judge(dma with { Size = 0 }, new Outcome(Errno.EIO, DmaValues.Fault(DmaFaults.Translation), [])).Allowed);
        s.Ok(new DomainAllocPaging("m", "d1")).Ok(new Map("d1", MockBase, 0x8000, K4, "rw"));
        Assert.True(s.State.DmaUndefined("rd"));
        Assert.False(s.State.Judge(dma, new Outcome(Errno.EINVAL, null, [])).Allowed);
    }

    [Fact]
    public void A_member_that_refuses_the_revert_keeps_the_domain_it_had_taken()
    {
        // g0 = [dev1, dev0] on the BLOCKED default (dev0 behind on d1); d2 is dirty-tracking: dev1 takes it, noDirty dev0
        // refuses; the revert to BLOCKED is refused by requireDirect dev0 (it keeps d1) — dev1 takes BLOCKED back.
        var s = Of([Mock()], [Plat("dev1"), Plat("dev0", requireDirect: true, noDirty: true)])
            .Ok(new Probe("dev1"))
            .Ok(new DomainAllocPaging("dev1", "d1"))
            .Ok(new Map("d1", MockBase, 0x8000, K4, "rw"))
            .Ok(new AttachGroup("d1", "dev1"))
            .Ok(new Probe("dev0"))
            .Expect(new DetachGroup("d1", "dev1"), Errno.OK, null, Warn.SetDomainNoFailFailed)
            .Ok(new DomainAllocPaging("dev1", "d2", AllocFlags.DirtyTracking));
        var before = s.State;
        s.Do(new AttachGroup("d2", "dev0"), atomic: false);
        Assert.Equal(new Outcome(Errno.EINVAL, null, [Warn.SetDomainRevertFailed]), before.Step(new AttachGroup("d2", "dev0")).Outcome);
        s.Expect(new DeviceDma("dev0", MockBase, 4, false), Errno.OK, DmaValues.Phys(0x8000))
            .Expect(new DeviceDma("dev1", MockBase, 4, false), Errno.EIO, DmaValues.Fault(DmaFaults.Blocked));

        // Two members that accept d2 before one that refuses it: the one before it refuses the revert and stays on d2.
        var t = Of([Mock()], [Plat("a"), Plat("b", requireDirect: true), Plat("c", noDirty: true)])
            .Ok(new Probe("a"))
            .Ok(new DomainAllocPaging("a", "d1"))
            .Ok(new AttachGroup("d1", "a"))
            .Ok(new Probe("b")).Ok(new Probe("c"))
            .Expect(new DetachGroup("d1", "a"), Errno.OK, null, Warn.SetDomainNoFailFailed)
            .Ok(new DomainAllocPaging("a", "d2", AllocFlags.DirtyTracking))
            .Ok(new Map("d2", MockBase, 0x7000, K4, "rw"));
        var refused = t.Do(new AttachGroup("d2", "a"), atomic: false);
        Assert.Equal(new Outcome(Errno.EINVAL, null, [Warn.SetDomainRevertFailed]), refused);
        Assert.Equal(DomainRef.User("d2"), t.State.HardwareDomainOf("b")!.Domain);
        Assert.Equal(DomainRef.Default, t.State.HardwareDomainOf("a")!.Domain);
        Assert.Equal(DomainRef.Default, t.State.HardwareDomainOf("c")!.Domain);
        t.Expect(new GetDomain("b"), Errno.OK, DomainNames.Default)
            .Expect(new DeviceDma("b", MockBase, 4, true), Errno.OK, DmaValues.Phys(0x7000));
    }

    [Fact]
    public void A_refused_switch_to_the_blocking_domain_on_smmuv3_ends_when_ownership_is_released()
    {
        var s = Of([Smmu()], [new DeviceSpec("a", BusNames.Pci, "smmu0", "g0"), new DeviceSpec("rd", BusNames.Pci, "smmu0", "g0", RequireDirect: true)])
            .Ok(new Probe("a"))
            .Ok(new ClaimGroupDmaOwner("a", "vfio"))
            .Ok(new DomainAllocPaging("a", "d1"))
            .Ok(new Map("d1", 0, 0x5000, K4, "rw"))
            .Ok(new AttachGroup("d1", "a"))
            .Ok(new Probe("rd"))
            .Expect(new DetachGroup("d1", "a"), Errno.OK, null, Warn.SetDomainNoFailFailed)
            .Expect(new GetDomain("rd"), Errno.OK, DomainNames.Blocking)
            .Expect(new DeviceDma("rd", 0, 4, false), Errno.OK, DmaValues.Phys(0x5000))
            .Expect(new DeviceDma("a", 0, 4, false), Errno.EIO, DmaValues.Fault(DmaFaults.Blocked))
            // back to the (DMA) default: both accept it
            .Ok(new ReleaseGroupDmaOwner("a"))
            .Expect(new DeviceDma("rd", 0, 4, false), Errno.EIO, DmaValues.Fault(DmaFaults.Translation));
        Assert.Equal(DomainRef.Default, s.State.HardwareDomainOf("rd")!.Domain);
    }

    [Fact]
    public void In_a_group_without_a_domain_a_member_a_refused_claim_switched_faults_no_domain()
    {
        // bus_probe pci sets up nothing (dev1 untrusted + identity: EINVAL); dev0 (platform, requireDirect) joins later.
        var s = Of([Smmu()], [new DeviceSpec("dev0", BusNames.Platform, "smmu0", "g0", RequireDirect: true),
                new DeviceSpec("dev1", BusNames.Pci, "smmu0", "g0", Untrusted: true, DefDomainType: GroupTypeStrings.Identity),
                new DeviceSpec("dev2", BusNames.Pci, "smmu0", "g0", NoDirty: true)]);
        s.Do(new BusProbe(BusNames.Pci), atomic: false);
        s.Do(new BusProbe(BusNames.Platform), atomic: false);
        s.Expect(new GetDomain("dev1"), Errno.OK, DomainNames.None)
            .Ok(new DomainAllocPaging("dev1", "d1"))
            .Ok(new Map("d1", 0, 0x5000, K4, "rw"));
        // claim: dev1 and dev2 take the blocking domain, dev0 refuses it; nothing is reverted (group->domain is NULL)
        s.Do(new ClaimGroupDmaOwner("dev1", "o1"), atomic: false);
        Assert.Equal(DomainRef.Blocking, s.State.HardwareDomainOf("dev2")!.Domain);
        Assert.Equal(HardwareDomain.Unattached, s.State.HardwareDomainOf("dev0"));
        s.Expect(new DeviceDma("dev2", 0, 4, false), Errno.EIO, DmaValues.Fault(DmaFaults.NoDomain));
        // attach_group: dev1 and dev2 take d1, dev0 accepts it too: the whole group moves
        s.Ok(new AttachGroup("d1", "dev1"))
            .Expect(new DeviceDma("dev0", 0, 4, true), Errno.OK, DmaValues.Phys(0x5000));
    }
}
