using IommuConformance.Contract;
using IommuConformance.Implementations;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>
/// __iommu_group_set_domain_internal err_revert: after a refused switch, members 0..k go back to group->domain with
/// MUST_SUCCEED, and each refusal there is a set_domain_revert_failed WARN.
/// </summary>
public class RevertTests
{
    // dev0 requires direct mappings and cannot track dirty pages: it refuses both the blocking domain and d2.
    private static readonly Topology MockGroup = new([Mock0],
    [
        Platform("dev0", "mock0", "g0") with { RequireDirect = true, NoDirty = true },
        Platform("dev1", "mock0", "g0"),
        Platform("dev2", "mock0", "g0"),
    ]);

    private static readonly Operation[] Script =
    [
        new Probe("dev2"), new ClaimDmaOwner("dev2", "o1"), new Probe("dev1"),
        new DomainAllocPaging("dev2", "d1"), new AttachGroup("d1", "dev2"), new Probe("dev0"),
        new DomainAllocPaging("dev1", "d2", AllocFlags.DirtyTracking), new Release("dev2"),
        new DetachGroup("d1", "dev0"),   // dev0 refuses the blocking domain under MUST_SUCCEED
        new AttachGroup("d2", "dev0"),   // dev1 takes d2, dev0 refuses it; the revert to blocking: dev0 refuses again
    ];

    [Fact]
    public void The_revert_warns_once_per_refusing_device_on_both_sides()
    {
        var outcomes = SideBySide.Run(SystemConfig.Default, MockGroup, Script);
        Assert.Equal(new Outcome(Errno.OK, null, [Warn.SetDomainNoFailFailed]), outcomes[8]);
        Assert.Equal(new Outcome(Errno.EINVAL, null, [Warn.SetDomainRevertFailed]), outcomes[9]);
    }

    [Fact]
    public void The_group_keeps_its_domain_and_the_refusing_device_its_old_context()
    {
        var system = IommuSystem.Create(SystemConfig.Default, MockGroup, []);
        system.Run(Script);
        var snapshot = system.Snapshot();
        var group = Assert.Single(snapshot.Groups);
        Assert.Equal(group.BlockingDomainId, group.DomainId);
        Assert.Equal(HwContextKind.Abort, snapshot.Devices.Single(d => d.Name == "dev1").Context.Kind);
        var d1 = snapshot.Domains.Single(d => d.Handle == "d1");
        Assert.Equal(new HwContext(HwContextKind.Translate, d1.Id), snapshot.Devices.Single(d => d.Name == "dev0").Context);
    }

    [Fact]
    public void A_revert_that_every_member_accepts_is_silent()
    {
        // The same refusal of d2 by a no-dirty dev0, which has no direct mappings: the revert to the default succeeds.
        var topology = MockGroup with { Devices = [MockGroup.Devices[0] with { RequireDirect = false }, .. MockGroup.Devices[1..]] };
        var outcomes = SideBySide.Run(SystemConfig.Default, topology, new Probe("dev2"), new Probe("dev1"), new Probe("dev0"),
            new DomainAllocPaging("dev1", "d2", AllocFlags.DirtyTracking), new AttachGroup("d2", "dev0"), new GetDomain("dev1"));
        Assert.Equal([Outcome.Of(Errno.EINVAL), Outcome.OkWith(DomainNames.Default)], outcomes[^2..]);
    }
}
