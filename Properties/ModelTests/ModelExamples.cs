using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.ModelTests.ModelSession;

namespace IommuConformance.Properties.ModelTests;

/// <summary>The spec's own examples (kernel-semantics.md §b, §d; docs/operations.md), run on the model alone.</summary>
public sealed class ModelExamples
{
    private static DeviceSpec Pci(string name, string iommu = "smmu0", string group = "g0") => new(name, BusNames.Pci, iommu, group);

    private static DeviceSpec Plat(string name, string iommu = "mock0", string group = "g0") => new(name, BusNames.Platform, iommu, group);

    [Fact] // §d #16: Claim → A(U1) → A(U2) → -EBUSY; the same domain again is EBUSY too.
    public void AttachOverAUserDomainIsBusy() =>
        Of([Smmu()], [Pci("dev0")])
            .Ok(new Probe("dev0"))
            .Ok(new ClaimGroupDmaOwner("dev0", "vfio"))
            .Ok(new DomainAllocPaging("dev0", "d1"))
            .Ok(new DomainAllocPaging("dev0", "d2"))
            .Ok(new AttachGroup("d1", "dev0"))
            .Expect(new AttachGroup("d1", "dev0"), Errno.EBUSY)
            .Expect(new AttachGroup("d2", "dev0"), Errno.EBUSY)
            .Expect(new DomainFree("d1"), Errno.EBUSY)
            .Ok(new DetachGroup("d1", "dev0"))
            .Expect(new GetDomain("dev0"), Errno.OK, DomainNames.Blocking)
            .Ok(new DomainFree("d1"))
            .Expect(new DomainFree("d1"), Errno.ENOENT)
            .Expect(new DomainAllocPaging("dev0", "d2"), Errno.EEXIST);

    [Fact] // §d #7: ClaimDevice(dev, NULL) → -EINVAL with the WARN, nothing changes.
    public void ClaimWithNullOwnerWarnsAndFails() =>
        Of([Smmu()], [Pci("dev0")])
            .Ok(new Probe("dev0"))
            .Expect(new ClaimDmaOwner("dev0", null), Errno.EINVAL, null, Warn.ClaimDmaOwnerNull)
            .Expect(new ClaimGroupDmaOwner("dev0", null), Errno.EINVAL, null, Warn.ClaimDmaOwnerNull)
            .Expect(new ClaimGroupDmaOwner("dev1", null), Errno.ENODEV);

    [Theory] // untrusted counts only on pci: it forces DMA (strict) even under a global identity default.
    [InlineData(BusNames.Pci, GroupTypeStrings.Dma)]
    [InlineData(BusNames.Platform, GroupTypeStrings.Identity)]
    public void UntrustedPciIsStrictDma(string bus, string expected) =>
        Of([Smmu()], [new DeviceSpec("dev0", bus, "smmu0", "g0", Untrusted: true)], DefaultDomainType.Identity)
            .Ok(new Probe("dev0"))
            .Expect(new GroupTypeRead("dev0"), Errno.OK, expected);

    [Fact] // mock's static BLOCKED default cannot take a require_direct device: first attach fails, probe unwound.
    public void MockRequireDirectProbeFails()
    {
        var s = Of([Mock()], [Plat("dev0") with { RequireDirect = true }, Pci("dev1", "mock0", "g1")])
            .Expect(new Probe("dev0"), Errno.EINVAL, null, Warn.DefaultDomainFirstAttachFailed)
            .Expect(new Probe("dev1"), Errno.ENODEV)
            .Expect(new GetDomain("dev0"), Errno.OK, DomainNames.None);
        Assert.False(s.State.IsProbed("dev0"));
    }

    [Fact] // §d #13: without DEFERRED_FLUSH a lazy default reads DMA; sysfs DMA-FQ still flips it, even when owned.
    public void FlushQueueNeedsDeferredFlushButSysfsFlipsAnyway() =>
        Of([Smmu(options: new IommuOptions(DeferredFlush: false))], [Pci("dev0")])
            .Ok(new Probe("dev0"))
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Dma)
            .Ok(new ClaimDmaOwner("dev0", "vfio"))
            .Expect(new GroupTypeWrite("dev0", GroupTypeStrings.Identity), Errno.EPERM)
            .Ok(new GroupTypeWrite("dev0", GroupTypeStrings.DmaFq))
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.DmaFq);

    [Fact] // global identity on an smmuv3 without identity domain falls back to DMA; an identity target is refused.
    public void IdentityFallsBackToDma() =>
        // the fall back is iommu_group_alloc_default_domain()'s pr_warn "... - Falling back to IOMMU_DOMAIN_DMA"
        Of([Smmu(options: new IommuOptions(IdentityDomain: false))], [Pci("dev0")], DefaultDomainType.Identity)
            .Expect(new Probe("dev0"), Errno.OK, null, Warn.DefaultDomainFallbackDma)
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Dma)
            .Expect(new GroupTypeWrite("dev0", GroupTypeStrings.Identity), Errno.EOPNOTSUPP)
            .Expect(new GroupTypeWrite("dev0", "passthrough"), Errno.EINVAL)
            .Expect(new GroupTypeWrite("dev0", GroupTypeStrings.Auto), Errno.OK, null, Warn.DefaultDomainFallbackDma)
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Dma);

    [Fact] // mock: the blocking domain is the default one, so an owned group still answers "default".
    public void MockOwnedGroupAnswersDefault() =>
        Of([Mock()], [Plat("dev0"), Plat("dev1", group: "g1") with { NoDirty = true }])
            .Ok(new Probe("dev0"))
            .Ok(new Probe("dev1"))
            .Ok(new ClaimDmaOwner("dev0", "iommufd"))
            .Expect(new GetDomain("dev0"), Errno.OK, DomainNames.Default)
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Blocked)
            .Expect(new DomainAllocPaging("dev1", "d0", AllocFlags.DirtyTracking), Errno.EOPNOTSUPP)
            .Ok(new DomainAllocPaging("dev0", "d1", AllocFlags.DirtyTracking))
            .Expect(new AttachDevice("d1", "dev1"), Errno.EINVAL)
            .Ok(new AttachDevice("d1", "dev0"))
            .Expect(new GetDomain("dev0"), Errno.OK, "d1");

    [Fact] // smmuv3 domains are finalised on one instance; another driver's domain fails the owner check.
    public void IncompatibleDomainsAreEinval() =>
        Of([Smmu("smmu0"), Smmu("smmu1"), Mock()], [Pci("a"), Pci("b", "smmu1"), Plat("m")])
            .Ok(new Probe("a")).Ok(new Probe("b")).Ok(new Probe("m"))
            .Expect(new DomainAllocPaging("a", "dx", AllocFlags.DirtyTracking), Errno.EOPNOTSUPP)
            .Ok(new DomainAllocPaging("a", "da"))
            .Expect(new AttachDevice("da", "b"), Errno.EINVAL)
            .Expect(new AttachDevice("da", "m"), Errno.EINVAL)
            .Ok(new AttachDevice("da", "a"));

    [Fact] // §d #10: a device hot-added into an owned group joins the group's current (user) domain.
    public void HotAddJoinsTheCurrentDomain()
    {
        var s = Of([Smmu()], [Pci("devA"), Pci("devB"), Pci("devC") with { RequireDirect = true }])
            .Ok(new Probe("devA"))
            .Ok(new ClaimGroupDmaOwner("devA", "vfio"))
            .Expect(new Probe("devC"), Errno.EINVAL) // parked on the blocking domain
            .Ok(new DomainAllocPaging("devA", "u"))
            .Ok(new AttachGroup("u", "devA"))
            .Ok(new Probe("devB"))
            .Expect(new GetDomain("devB"), Errno.OK, "u")
            .Expect(new AttachDevice("u", "devA"), Errno.EINVAL) // group of two
            .Expect(new DetachDevice("u", "devA"), Errno.OK, null, Warn.DetachDeviceNotSingleton);
        Assert.Equal(["devA", "devB"], s.State.GroupMembers("devB"));
    }

    [Fact] // releasing the last member of an owned group warns, frees the group, and lets its user domain go.
    public void ReleaseOfAnOwnedGroup() =>
        Of([Smmu()], [Pci("dev0")])
            .Ok(new Probe("dev0"))
            .Ok(new ClaimDmaOwner("dev0", "vfio"))
            .Ok(new DomainAllocPaging("dev0", "d1"))
            .Ok(new AttachDevice("d1", "dev0"))
            .Expect(new Release("dev0"), Errno.OK, null, Warn.ReleaseDeviceGroupInUse)
            .Ok(new DomainFree("d1"))
            .Expect(new ReleaseDmaOwner("dev0"), Errno.ENODEV)
            .Ok(new Probe("dev0"))
            .Expect(new GetDomain("dev0"), Errno.OK, DomainNames.Default);

    [Fact] // b.12: use/unuse of the default domain, and the unbalanced unuse of a driver bound before probe.
    public void DriverBindCountsUsers() =>
        Of([Smmu()], [Pci("dev0"), Pci("dev1")])
            .Ok(new DriverBind("dev0"))
            .Expect(new DriverBind("dev0"), Errno.EBUSY)
            .Expect(new Probe("dev0"), Errno.OK, null, Warn.LateProbeAtDriverBind)
            .Ok(new Probe("dev1"))
            .Ok(new DriverBind("dev1"))
            .Expect(new ClaimDmaOwner("dev1", "vfio"), Errno.EPERM)
            .Expect(new GroupTypeWrite("dev1", GroupTypeStrings.Identity), Errno.EPERM)
            .Ok(new DriverUnbind("dev1"))
            .Expect(new DriverUnbind("dev0"), Errno.OK, null, Warn.UnuseDefaultDomainUnbalanced)
            .Expect(new DriverUnbind("dev0"), Errno.ENODEV)
            .Ok(new GroupTypeWrite("dev1", GroupTypeStrings.Identity))
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Identity)
            .Expect(new ReleaseGroupDmaOwner("dev0"), Errno.OK, null, Warn.ReleaseDmaOwnerNotOwned);

    [Fact] // states compare structurally: claim + release is the probed state again; a same-type write keeps the instance.
    public void StatesCompareStructurally()
    {
        var probed = Of([Smmu()], [Pci("dev0")]).Ok(new Probe("dev0"));
        var cycled = Of([Smmu()], [Pci("dev0")]).Ok(new Probe("dev0"))
            .Ok(new ClaimGroupDmaOwner("dev0", "vfio")).Ok(new ReleaseGroupDmaOwner("dev0"));
        Assert.Equal(probed.State, cycled.State);
        Assert.Equal(probed.State.GetHashCode(), cycled.State.GetHashCode());
        var before = probed.State;
        Assert.Same(before, probed.Ok(new GroupTypeWrite("dev0", GroupTypeStrings.DmaFq)).State);
    }
}
