using IommuConformance.Contract;
using IommuConformance.Implementations;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>Examples of docs/operations.md, checked on the implementation alone.</summary>
public class CoreBehaviourTests
{
    private static Outcome Ok(string value) => Outcome.OkWith(value);

    private static Outcome Err(Errno errno, params string[] warnings) => new(errno, null, [.. warnings]);

    [Fact]
    public void ProbeSetsUpALazyDmaDefaultDomain()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        var outcomes = system.Run(new Probe("dev0"), new GetDomain("dev0"), new GroupTypeRead("dev0"), new Probe("dev0"));
        Assert.Equal([Outcome.Ok, Ok("default"), Ok("DMA-FQ"), Outcome.Ok], outcomes);
        var snapshot = system.Snapshot();
        var group = Assert.Single(snapshot.Groups);
        Assert.Equal(new HwContext(HwContextKind.Translate, group.DefaultDomainId), snapshot.Devices[0].Context);
    }

    [Fact]
    public void NoDeferredFlushDowngradesToStrict()
    {
        var smmu = Smmu0 with { Options = new IommuOptions(DeferredFlush: false) };
        var system = Create([smmu], [Pci("dev0")]);
        Assert.Equal(Ok("DMA"), system.Run(new Probe("dev0"), new GroupTypeRead("dev0"))[1]);
        // Mainline brings up a flush queue in place regardless of the capability.
        Assert.Equal([Outcome.Ok, Ok("DMA-FQ")], system.Run(new GroupTypeWrite("dev0", "DMA-FQ"), new GroupTypeRead("dev0")));
    }

    [Fact]
    public void MockUsesItsStaticBlockedDefault()
    {
        var system = Create([Mock0], [Platform("m0", "mock0", "g0"), Pci("p0", "mock0", "g1")]);
        var outcomes = system.Run(new Probe("m0"), new GroupTypeRead("m0"), new GetDomain("m0"), new Probe("p0"),
            new GroupTypeWrite("m0", "DMA"), new GroupTypeWrite("m0", "auto"), new ClaimDmaOwner("m0", "o1"), new GetDomain("m0"));
        Assert.Equal([Outcome.Ok, Ok("blocked"), Ok("default"), Err(Errno.ENODEV), Err(Errno.EINVAL), Outcome.Ok,
            Outcome.Ok, Ok("default")], outcomes);
        Assert.Equal(HwContextKind.Abort, system.Snapshot().Devices[0].Context.Kind);
    }

    [Fact]
    public void RequireDirectMockDeviceFailsItsFirstAttachAndIsUnwound()
    {
        var system = Create([Mock0], [Platform("m0", "mock0", "g0") with { RequireDirect = true }]);
        Assert.Equal(Err(Errno.EINVAL, Warn.DefaultDomainFirstAttachFailed), system.Execute(new Probe("m0")));
        var snapshot = system.Snapshot();
        Assert.Empty(snapshot.Groups);
        Assert.Null(snapshot.Devices[0].GroupId);
    }

    [Fact]
    public void OwnershipParksTheGroupOnItsBlockingDomain()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        var outcomes = system.Run(new Probe("dev0"), new ClaimDmaOwner("dev0", "o1"), new GetDomain("dev0"),
            new ClaimDmaOwner("dev0", "o2"), new ClaimDmaOwner("dev0", "o1"), new ReleaseDmaOwner("dev0"),
            new GetDomain("dev0"), new ReleaseDmaOwner("dev0"), new GetDomain("dev0"), new ReleaseGroupDmaOwner("dev0"));
        Assert.Equal([Outcome.Ok, Outcome.Ok, Ok("blocking"), Err(Errno.EPERM), Outcome.Ok, Outcome.Ok,
            Ok("blocking"), Outcome.Ok, Ok("default"), Err(Errno.OK, Warn.ReleaseDmaOwnerNotOwned)], outcomes);
    }

    [Fact]
    public void ReleasingAnOwnedDeviceWarnsAndFreesTheGroup()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        var outcomes = system.Run(new Probe("dev0"), new ClaimGroupDmaOwner("dev0", "o1"), new Release("dev0"),
            new GetDomain("dev0"), new GroupTypeRead("dev0"));
        Assert.Equal([Outcome.Ok, Outcome.Ok, Err(Errno.OK, Warn.ReleaseDeviceGroupInUse), Ok("none"), Err(Errno.ENODEV)], outcomes);
        var snapshot = system.Snapshot();
        Assert.Empty(snapshot.Groups);
        Assert.Empty(snapshot.HardwareErrors);
        Assert.All(snapshot.Domains, d => Assert.True(d.IsStatic));
    }

    [Fact]
    public void AttachRulesAndHandles()
    {
        var system = Create([Smmu0, Smmu1], [Pci("a0"), Pci("a1"), Pci("b0", "smmu1", "g9")]);
        var outcomes = system.Run(
            new Probe("a0"), new Probe("a1"), new Probe("b0"),
            new DomainAllocPaging("a0", "d1"), new DomainAllocPaging("a0", "d1"),
            new AttachDevice("d1", "a0"),                    // two devices in the group
            new AttachGroup("d1", "a0"), new GetDomain("a1"),
            new AttachGroup("d1", "b0"),                     // finalised on smmu0
            new DomainFree("d1"), new DetachDevice("d1", "a0"), new DetachGroup("d1", "a1"),
            new DomainFree("d1"), new DomainFree("d1"), new DomainAllocPaging("a0", "d1", "dirty_tracking"));
        Assert.Equal([Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, Err(Errno.EEXIST), Err(Errno.EINVAL),
            Outcome.Ok, Ok("d1"), Err(Errno.EINVAL), Err(Errno.EBUSY),
            Err(Errno.OK, Warn.DetachDeviceNotSingleton), Outcome.Ok, Outcome.Ok, Err(Errno.ENOENT),
            Err(Errno.EOPNOTSUPP)], outcomes);
        Assert.Empty(system.Snapshot().HardwareErrors);
    }

    [Fact]
    public void HotAddIntoAGroupOnAnIncompatibleDomainIsUnwound()
    {
        var system = Create([Mock0], [Platform("m0", "mock0", "g0"), Platform("m1", "mock0", "g0") with { NoDirty = true }]);
        var outcomes = system.Run(new Probe("m0"), new DomainAllocPaging("m0", "d1", "dirty_tracking"),
            new AttachDevice("d1", "m0"), new Probe("m1"), new DomainAllocPaging("m0", "d2"),
            new DomainAllocPaging("m1", "d3", "dirty_tracking"));
        Assert.Equal([Outcome.Ok, Outcome.Ok, Outcome.Ok, Err(Errno.EINVAL), Outcome.Ok, Err(Errno.ENODEV)], outcomes);
        Assert.Single(system.Snapshot().Groups[0].Members);
    }

    [Fact]
    public void SysfsTypeChangeReplacesTheDefaultDomain()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        system.Execute(new Probe("dev0"));
        var oldDefault = system.Snapshot().Groups[0].DefaultDomainId;
        var outcomes = system.Run(new GroupTypeWrite("dev0", "identity"), new GroupTypeRead("dev0"),
            new GetDomain("dev0"), new GroupTypeWrite("dev0", "bogus"), new DriverBind("dev0"), new GroupTypeWrite("dev0", "DMA"));
        Assert.Equal([Outcome.Ok, Ok("identity"), Ok("default"), Err(Errno.EINVAL), Outcome.Ok, Err(Errno.EPERM)], outcomes);
        var snapshot = system.Snapshot();
        Assert.DoesNotContain(snapshot.Domains, d => d.Id == oldDefault);
        Assert.Equal(HwContextKind.Bypass, snapshot.Devices[0].Context.Kind);
    }

    [Fact]
    public void DefaultDomainTypeResolution()
    {
        var noIdentity = Smmu0 with { Options = new IommuOptions(IdentityDomain: false) };
        var identityConfig = new SystemConfig(DefaultDomain: DefaultDomainType.Identity);
        Assert.Equal(Ok("DMA"), Create([noIdentity], [Pci("dev0")], config: identityConfig)
            .Run(new Probe("dev0"), new GroupTypeRead("dev0"))[1]);
        Assert.Equal(Err(Errno.EOPNOTSUPP), Create([noIdentity], [Pci("dev0") with { DefDomainType = "identity" }])
            .Execute(new Probe("dev0")));
        Assert.Equal(Err(Errno.EINVAL), Create([Smmu0], [Pci("dev0") with { Untrusted = true, DefDomainType = "identity" }])
            .Execute(new Probe("dev0")));
        // A DMA preference asks for strict DMA; a conflicting member's IDENTITY wins on the next setup.
        var mixed = Create([Smmu0], [Pci("a") with { DefDomainType = "DMA" }, Pci("b") with { DefDomainType = "identity" }]);
        Assert.Equal([Outcome.Ok, Ok("DMA"), Outcome.Ok, Outcome.Ok, Ok("identity")], mixed.Run(new Probe("a"),
            new GroupTypeRead("a"), new Probe("b"), new GroupTypeWrite("a", "auto"), new GroupTypeRead("b")));
    }

    [Fact]
    public void DriverCoreRules()
    {
        var system = Create([Smmu0], [Pci("dev0"), new DeviceSpec("bare", BusNames.Pci, null, "g")]);
        var outcomes = system.Run(new DriverUnbind("dev0"), new DriverBind("dev0"), new DriverBind("dev0"),
            new Probe("dev0"), new DriverUnbind("dev0"), new Probe("bare"), new ReleaseDmaOwner("bare"),
            new ClaimDmaOwner("bare", null), new Release("bare"));
        Assert.Equal([Err(Errno.ENODEV), Outcome.Ok, Err(Errno.EBUSY), Err(Errno.OK, Warn.LateProbeAtDriverBind),
            Err(Errno.OK, Warn.UnuseDefaultDomainUnbalanced), Err(Errno.ENODEV), Err(Errno.ENODEV),
            Err(Errno.EINVAL, Warn.ClaimDmaOwnerNull), Outcome.Ok], outcomes);
    }
}
