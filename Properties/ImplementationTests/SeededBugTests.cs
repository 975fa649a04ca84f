using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Bugs;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>Each seeded bug's shortest trace: bug off → the contract's answer; bug on → a visible difference.</summary>
public class SeededBugTests
{
    private static IommuSystem OneSmmuDevice(DeviceSpec dev, string? bug, SystemConfig? config = null) =>
        Create([Smmu0], [dev], bug is null ? [] : [bug], config);

    [Theory]
    [InlineData(null, Errno.OK)]
    [InlineData(BugCatalogue.FreshDomainEinval, Errno.EINVAL)]
    public void FreshDomainEinval(string? bug, Errno expected)
    {
        var outcomes = OneSmmuDevice(Pci("dev0"), bug).Run(
            new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new AttachDevice("d1", "dev0"));
        Assert.Equal(expected, outcomes[2].Errno);
    }

    [Theory]
    [InlineData(null, Errno.EINVAL)]
    [InlineData(BugCatalogue.NoOwnerGatekeeper, Errno.OK)]
    public void NoOwnerGatekeeper(string? bug, Errno expected)
    {
        var system = Create([Smmu0, Mock0], [Pci("devA"), Platform("devB", "mock0", "g1")], bug is null ? [] : [bug]);
        var outcomes = system.Run(new Probe("devA"), new Probe("devB"), new DomainAllocPaging("devB", "d1"),
            new AttachDevice("d1", "devA"));
        Assert.Equal(expected, outcomes[3].Errno);
        // The mock's attach has no record of its own for a foreign device: devA's STE keeps its old context while
        // its group's domain is the mock domain (c.2).
        var snapshot = system.Snapshot();
        var devA = snapshot.Devices.Single(d => d.Name == "devA");
        Assert.Equal(HwContextKind.Translate, devA.Context.Kind);
        var groupDomain = snapshot.Groups.Single(g => g.Members.Contains("devA")).DomainId;
        Assert.Equal(bug is not null, devA.Context.DomainId != groupDomain);
    }

    [Theory]
    [InlineData(null, Errno.EBUSY)]
    [InlineData(BugCatalogue.AttachGroupReplacesUserDomain, Errno.OK)]
    public void AttachGroupReplacesUserDomain(string? bug, Errno expected)
    {
        var outcomes = OneSmmuDevice(Pci("dev0"), bug).Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"),
            new AttachGroup("d1", "dev0"), new AttachGroup("d1", "dev0"));
        Assert.Equal(Errno.OK, outcomes[2].Errno);
        Assert.Equal(expected, outcomes[3].Errno);
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData(BugCatalogue.ClaimOwnerNullLeaksGroup, 2)]
    public void ClaimOwnerNullLeaksGroup(string? bug, int refCount)
    {
        var system = OneSmmuDevice(Pci("dev0"), bug);
        var outcomes = system.Run(new Probe("dev0"), new ClaimDmaOwner("dev0", null));
        Assert.Equal(new Outcome(Errno.EINVAL, null, [Warn.ClaimDmaOwnerNull]), outcomes[1]);
        // No reference is held between steps: the refcount must equal the member count (c.21).
        var group = Assert.Single(system.Snapshot().Groups);
        Assert.Equal(refCount, group.RefCount);

        system.Execute(new Release("dev0"));
        var groups = system.Snapshot().Groups;
        Assert.Equal(refCount - 1, groups.Length);
        Assert.All(groups, g => Assert.Empty(g.Members));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(BugCatalogue.ClaimOwnerNullLeaksGroup)]
    public void ClaimOwnerNullKeepsTheCheckOrder(string? bug)
    {
        // The NULL owner is refused before the group lookup, with or without the leak.
        var outcome = OneSmmuDevice(Pci("dev0"), bug).Execute(new ClaimDmaOwner("dev0", null));
        Assert.Equal(new Outcome(Errno.EINVAL, null, [Warn.ClaimDmaOwnerNull]), outcome);
        Assert.Equal(Outcome.Of(Errno.ENODEV), OneSmmuDevice(Pci("dev0"), bug).Execute(new ClaimDmaOwner("dev0", "o1")));
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData(BugCatalogue.ReleaseFreesDomainsBeforeDriverRelease, 1)]
    public void ReleaseFreesDomainsBeforeDriverRelease(string? bug, int hardwareErrors)
    {
        var system = OneSmmuDevice(Pci("dev0"), bug);
        system.Run(new Probe("dev0"), new Release("dev0"));
        Assert.Equal(hardwareErrors, system.Snapshot().HardwareErrors.Length);
    }

    [Theory]
    [InlineData(null, HwContextKind.Abort)]
    [InlineData(BugCatalogue.HotAddSkipsOwnedGroupAttach, HwContextKind.None)]
    public void HotAddSkipsOwnedGroupAttach(string? bug, HwContextKind devB)
    {
        var system = Create([Smmu0], [Pci("devA"), Pci("devB")], bug is null ? [] : [bug]);
        var outcomes = system.Run(new Probe("devA"), new ClaimGroupDmaOwner("devA", "o1"), new Probe("devB"));
        Assert.All(outcomes, o => Assert.Equal(Outcome.Ok, o));
        Assert.Equal(devB, system.Snapshot().Devices.Single(d => d.Name == "devB").Context.Kind);
    }

    [Theory]
    [InlineData(null, Errno.EINVAL)]
    [InlineData(BugCatalogue.RequireDirectBlockingAllowed, Errno.OK)]
    public void RequireDirectBlockingAllowed(string? bug, Errno expected)
    {
        var outcomes = OneSmmuDevice(Pci("dev0") with { RequireDirect = true }, bug).Run(
            new Probe("dev0"), new ClaimDmaOwner("dev0", "o1"));
        Assert.Equal(expected, outcomes[1].Errno);
    }

    [Theory]
    [InlineData(null, Errno.EPERM)]
    [InlineData(BugCatalogue.SysfsTypeIgnoresOwner, Errno.OK)]
    public void SysfsTypeIgnoresOwner(string? bug, Errno expected)
    {
        var outcomes = OneSmmuDevice(Pci("dev0"), bug).Run(
            new Probe("dev0"), new DriverBind("dev0"), new GroupTypeWrite("dev0", "identity"));
        Assert.Equal(expected, outcomes[2].Errno);
    }

    [Theory]
    [InlineData(null, "DMA")]
    [InlineData(BugCatalogue.UntrustedNotForcedDma, "identity")]
    public void UntrustedNotForcedDma(string? bug, string expected)
    {
        var config = new SystemConfig(DefaultDomain: DefaultDomainType.Identity);
        var outcomes = OneSmmuDevice(Pci("dev0") with { Untrusted = true }, bug, config).Run(
            new Probe("dev0"), new GroupTypeRead("dev0"));
        Assert.Equal(Outcome.OkWith(expected), outcomes[1]);
    }

    [Theory]
    [InlineData(null, 0UL)]
    [InlineData(BugCatalogue.MapFailureNotUnwound, 0x10000UL)]
    public void MapFailureNotUnwound(string? bug, ulong left)
    {
        // the fourth table page is the second chunk's last-level table: the map fails after its first chunk
        var outcomes = OneSmmuDevice(Pci("dev0"), bug).Run(
            new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new FailNth(4),
            new Map("d1", 0x1ff000, 0x10000, 0x2000, "rw"), new IovaToPhys("d1", 0x1ff000));
        Assert.Equal(Errno.ENOMEM, outcomes[3].Errno);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(left)), outcomes[4]);
    }

    [Fact]
    public void CatalogueNamesAreUniqueAndUnknownNamesAreRefused()
    {
        Assert.Equal(BugCatalogue.All.Count, BugCatalogue.All.Select(b => b.Name).Distinct().Count());
        Assert.Throws<ArgumentException>(() => Create([Smmu0], [], ["no_such_bug"]));
    }
}
