using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Invariants;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Implementations;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>Each structural check stays silent on a good snapshot and fires on one broken the way it guards against.</summary>
public class InvariantTests
{
    private static InvariantContext Context() => new(Fixtures.TwoDeviceGroup);

    private static readonly HwContext Abort = new(HwContextKind.Abort, null);

    [Fact]
    public void A_good_snapshot_violates_nothing()
    {
        Assert.Empty(InvariantChecker.AllViolations(Fixtures.GoodSnapshot(), Context()));
        Assert.Empty(InvariantChecker.AllViolations(Fixtures.EmptySnapshot(), Context()));
    }

    public static TheoryData<string, Func<SystemSnapshot, SystemSnapshot>> Broken() => new()
    {
        // c.6: leaked group, id used twice
        { "c.6", s => s with { Groups = [.. s.Groups, new GroupSnapshot(2, "smmu0", "g1", [], null, null, null, null, 0, 1)] } },
        { "c.6", s => s with { Groups = [.. s.Groups, s.Groups[0] with { Key = "g1", Members = ["rd"] }] } },
        // c.9: dangling domain references, hardware errors
        { "c.9", s => s.WithDevice("rd", d => d with { Context = new HwContext(HwContextKind.Translate, 99) }) },
        { "c.9", s => s.WithGroup(g => g with { BlockingDomainId = 42 }) },
        { "c.9", s => s with { HardwareErrors = ["STE fetch of a freed table"] } },
        // c.1: membership both ways, and keys
        { "c.1", s => s.WithDevice("dev1", d => d with { GroupId = null }) },
        { "c.1", s => s.WithDevice("rd", d => d with { GroupId = 1 }) },
        { "c.1", s => s.WithDevice("rd", d => d with { GroupId = 7 }) },
        { "c.1", s => s.WithGroup(g => g with { Key = "g1" }) },
        // c.2: a member not on the group's domain
        { "c.2", s => s.WithDevice("dev1", d => d with { Context = HwContext.None }) },
        { "c.2", s => s.WithGroup(g => g with { DomainId = 11 }) },
        // c.3: non-empty group with a default domain but no current domain
        { "c.3", s => s.WithGroup(g => g with { DomainId = null }).WithDevice("dev0", d => d with { Context = Abort }).WithDevice("dev1", d => d with { Context = Abort }) },
        // c.4: an owner on the default domain, an owner with owner_cnt 0
        { "c.4", s => s.WithGroup(g => g with { Owner = "vfio", OwnerCount = 1 }) },
        { "c.4", s => s.WithGroup(g => g with { Owner = "vfio", OwnerCount = 0, DomainId = 11 }).WithDevice("dev0", d => d with { Context = Abort }).WithDevice("dev1", d => d with { Context = Abort }) },
        // c.7: a requireDirect device blocked
        { "c.7", s => s with { Devices = [.. s.Devices.Select(d => d.Name == "rd" ? d with { GroupId = 2, Context = Abort } : d)], Groups = [.. s.Groups, new GroupSnapshot(2, "smmu0", "g1", ["rd"], 11, 10, 11, "o", 1, 1)] } },
        // c.8: translating through a domain of another driver or instance
        { "c.8", s => s with { Domains = [.. s.Domains.Select(d => d.Id == 10 ? d with { OwnerDriver = "mock" } : d)] } },
        { "c.8", s => s with { Domains = [.. s.Domains.Select(d => d.Id == 10 ? d with { Iommu = "smmu1" } : d)] } },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Each_check_fires_on_its_broken_snapshot(string id, Func<SystemSnapshot, SystemSnapshot> breakIt)
    {
        var violations = InvariantChecker.AllViolations(breakIt(Fixtures.GoodSnapshot()), Context());
        Assert.Contains(violations, v => v.StartsWith(id + ":", StringComparison.Ordinal));
    }

    /// <summary>
    /// c.7's hardware half starts with the group's first attach: while <c>group->domain</c> is NULL the core has attached
    /// nothing to its members, whose entries are what the IOMMU's reset or their last release left — on VT-d a
    /// not-present context entry, which decodes as the blocking domain's cleared one. Once the group has a domain, an
    /// abort entry on a requireDirect member is a violation again, whatever domain the group is on.
    /// </summary>
    [Fact]
    public void C7_hardware_half_applies_once_the_group_has_a_domain()
    {
        SystemSnapshot Parked(int? domain) => Fixtures.GoodSnapshot() with
        {
            Devices = [.. Fixtures.GoodSnapshot().Devices.Select(d => d.Name == "rd" ? d with { GroupId = 2, Context = Abort } : d)],
            Groups = [.. Fixtures.GoodSnapshot().Groups, new GroupSnapshot(2, "smmu0", "g1", ["rd"], domain, domain, null, null, 0, 1)],
            Domains = domain is { } id ? [.. Fixtures.GoodSnapshot().Domains, new DomainSnapshot(id, "identity", "smmuv3", null, null, true, null)]
                : Fixtures.GoodSnapshot().Domains,
        };
        Assert.Empty(InvariantChecker.AllViolations(Parked(null), Context()));
        Assert.Contains(InvariantChecker.AllViolations(Parked(12), Context()),
            v => v.StartsWith("c.7: requireDirect device rd's hardware context is abort", StringComparison.Ordinal));
        // the fused pass agrees: silent on the parked device, firing on the attached one
        Assert.True(InvariantChecker.FusedPassHolds(Parked(null), Context()));
        Assert.False(InvariantChecker.FusedPassHolds(Parked(12), Context()));
    }

    /// <summary>
    /// A requireDirect device whose first attach failed keeps the reset's abort entry while its group has a domain
    /// (<see cref="InvariantContext.NeverAttached"/>); a device that merely lags (its entry on an old domain) does not
    /// get the abort half of c.7 waived.
    /// </summary>
    [Fact]
    public void C7_abort_half_is_waived_only_for_a_never_attached_device()
    {
        var parked = Fixtures.GoodSnapshot() with
        {
            Devices = [.. Fixtures.GoodSnapshot().Devices.Select(d => d.Name == "rd" ? d with { GroupId = 2, Context = Abort } : d)],
            Groups = [.. Fixtures.GoodSnapshot().Groups, new GroupSnapshot(2, "smmu0", "g1", ["rd"], 12, 12, null, null, 0, 1)],
            Domains = [.. Fixtures.GoodSnapshot().Domains, new DomainSnapshot(12, "DMA", "smmuv3", null, null, false, null)],
        };
        var lagging = Context();
        lagging.LaggingDevices.Add("rd");
        Assert.Contains(InvariantChecker.AllViolations(parked, lagging), v => v.StartsWith("c.7:", StringComparison.Ordinal));
        Assert.False(InvariantChecker.FusedPassHolds(parked, lagging));
        var neverAttached = Context();
        neverAttached.LaggingDevices.Add("rd");
        neverAttached.NeverAttached.Add("rd");
        Assert.DoesNotContain(InvariantChecker.AllViolations(parked, neverAttached), v => v.StartsWith("c.7:", StringComparison.Ordinal));
        Assert.True(InvariantChecker.FusedPassHolds(parked, neverAttached));
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void The_fused_pass_sees_each_broken_snapshot(string id, Func<SystemSnapshot, SystemSnapshot> breakIt)
    {
        Assert.False(InvariantChecker.FusedPassHolds(breakIt(Fixtures.GoodSnapshot()), Context()), id);
        Assert.True(InvariantChecker.FusedPassHolds(Fixtures.GoodSnapshot(), Context()));
    }

    [Fact]
    public void C4_is_not_asserted_in_a_group_whose_ownership_was_unbalanced_by_misuse()
    {
        var context = Context();
        context.UnbalancedGroups.Add(1);
        var owned = Fixtures.GoodSnapshot().WithGroup(g => g with { Owner = "vfio", OwnerCount = 0 });
        Assert.Empty(InvariantChecker.AllViolations(owned, context));
        Assert.Contains(InvariantChecker.AllViolations(owned, Context()), v => v.StartsWith("c.4:", StringComparison.Ordinal));
    }

    [Fact]
    public void C4_admits_an_owner_on_a_default_domain_that_is_the_blocking_one()
    {
        var mock = Fixtures.GoodSnapshot().WithGroup(g => g with { DomainId = 11, DefaultDomainId = 11, Owner = "o", OwnerCount = 1 })
            .WithDevice("dev0", d => d with { Context = Abort }).WithDevice("dev1", d => d with { Context = Abort });
        // The DMA-FQ default the fixture had is gone with the change of default (else c.19 sees a leak).
        mock = mock with { Domains = mock.Domains.RemoveAll(d => d.Id == 10) };
        Assert.Empty(InvariantChecker.AllViolations(mock, Context()));
    }

    [Fact]
    public void Atomicity_spots_a_change_and_tolerates_the_documented_leftovers()
    {
        var before = Fixtures.GoodSnapshot();
        Assert.Null(Atomicity.Violation(before, Fixtures.GoodSnapshot()));
        var changed = Atomicity.Violation(before, before.WithDevice("dev0", d => d with { DriverBound = true }));
        Assert.NotNull(changed);
        Assert.StartsWith("c.10:", changed);
        Assert.Contains("bound True", changed);

        var noBlocking = before.WithGroup(g => g with { BlockingDomainId = null });
        var keptBlocking = noBlocking.WithGroup(g => g with { BlockingDomainId = 12 }) with
        {
            Domains = [.. noBlocking.Domains, new DomainSnapshot(12, "unmanaged", "smmuv3", "smmuv3", "smmu0", false, null)],
        };
        Assert.Null(Atomicity.Violation(noBlocking, keptBlocking));
        Assert.Null(Atomicity.Violation(noBlocking, before)); // the static blocked domain #11, got on the way
        var downgraded = before with { Domains = [.. before.Domains.Select(d => d.Id == 10 ? d with { Type = "DMA" } : d)] };
        Assert.Null(Atomicity.Violation(before, downgraded));
    }

    [Fact]
    public void Atomicity_lets_a_revert_put_a_lagging_member_back_on_the_groups_domain_and_nowhere_else()
    {
        var good = Fixtures.GoodSnapshot();
        var lagging = good.WithDevice("dev0", d => d with { Context = new HwContext(HwContextKind.Abort, 11) });
        HwContext? ContextOf(SystemSnapshot after, int id) =>
            after.Groups.SingleOrDefault(g => g.Id == id) is { DomainId: { } d } && after.Domains.SingleOrDefault(x => x.Id == d) is { } domain
                ? StructuralInvariants.ExpectedContext(domain) : null;
        string? Judge(SystemSnapshot after) => Atomicity.Violation(Atomicity.Changes(lagging, after), Outcome.Of(Errno.EINVAL),
            id => after.Groups.SingleOrDefault(g => g.Id == id), id => ContextOf(after, id));
        Assert.Null(Judge(good));   // back on the group's domain #10
        Assert.NotNull(Judge(lagging.WithDevice("dev0", d => d with { Context = new HwContext(HwContextKind.Translate, 12) })));
        Assert.NotNull(Judge(good.WithDevice("dev0", d => d with { DriverBound = true })));
        // a member already on the group's domain that moves is still a change
        Assert.NotNull(Atomicity.Violation(Atomicity.Changes(good, lagging), Outcome.Of(Errno.EINVAL),
            id => good.Groups.SingleOrDefault(g => g.Id == id), id => ContextOf(good, id)));
        // an identity domain puts its members on bypass, whatever the id the entry names
        var identity = good with { Domains = [.. good.Domains.Select(d => d.Id == 10 ? d with { Type = "identity" } : d)] };
        var onBypass = identity.WithDevice("dev0", d => d with { Context = new HwContext(HwContextKind.Bypass, null) });
        var blocked = identity.WithDevice("dev0", d => d with { Context = new HwContext(HwContextKind.Abort, 11) });
        Assert.Null(Atomicity.Violation(Atomicity.Changes(blocked, onBypass), Outcome.Of(Errno.EINVAL),
            id => onBypass.Groups.SingleOrDefault(g => g.Id == id), id => ContextOf(onBypass, id)));
    }
}
