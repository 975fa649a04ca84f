using IommuConformance.Contract;
using IommuConformance.Model;
using IommuConformance.Model.State;
using Xunit;
using static IommuConformance.Properties.ModelTests.ModelSession;

namespace IommuConformance.Properties.ModelTests;

/// <summary>The harness-facing entry points of the model: Judge, the cheap queries, the changed-device set, equality.</summary>
public sealed class ModelQueryTests
{
    private static DeviceSpec Pci(string name, string group = "g0") => new(name, BusNames.Pci, "smmu0", group);

    private static ModelSession TwoGroups() => Of([Smmu()], [Pci("a"), Pci("b"), Pci("c", "g1")]);

    [Fact]
    public void Judge_allows_exactly_the_computed_outcome_and_adopts_its_next_state()
    {
        var initial = TwoGroups().State;
        var step = initial.Step(new Probe("a"));
        var right = initial.Judge(new Probe("a"), Outcome.Ok);
        Assert.True(right.Allowed);
        Assert.Equal(Outcome.Ok, right.Expected);
        Assert.Equal(step.Next, right.Next);

        var wrong = initial.Judge(new Probe("a"), Outcome.Of(Errno.ENODEV));
        Assert.False(wrong.Allowed);
        Assert.Equal(Outcome.Ok, wrong.Expected);
        Assert.True(wrong.Next.IsProbed("a"));
        Assert.False(initial.Judge(new Probe("a"), Outcome.Ok.WithWarnings([Warn.ClaimDmaOwnerNull])).Allowed);
    }

    [Fact]
    public void GroupType_answers_what_group_type_read_does()
    {
        var s = Of([Smmu(), Mock()], [Pci("a"), new DeviceSpec("m", BusNames.Platform, "mock0", "g0")])
            .Ok(new Probe("a")).Ok(new Probe("m")).State;
        Assert.Equal(GroupTypeStrings.DmaFq, s.GroupType("a"));
        Assert.Equal(GroupTypeStrings.Blocked, s.GroupType("m"));
        Assert.Null(s.GroupType("nobody"));
        Assert.Equal(Errno.ENODEV, s.Step(new GroupTypeRead("nobody")).Outcome.Errno);
    }

    [Fact]
    public void DevicesChangedSince_names_the_members_of_replaced_groups_and_bound_changes()
    {
        var session = TwoGroups();
        ModelState Before() => session.State;
        IEnumerable<string> After(Operation op)
        {
            var before = Before();
            session.Do(op);
            return session.State.DevicesChangedSince(before);
        }

        Assert.Equal(["a"], After(new Probe("a")));
        Assert.Equal(["a", "b"], After(new Probe("b")));
        Assert.Empty(After(new Probe("b")));                       // already probed: same instance
        Assert.Empty(After(new ClaimDmaOwner("zz", null)));       // failed
        Assert.Empty(After(new DomainAllocPaging("a", "d1")));     // only the handle table changed
        Assert.Equal(["a", "b"], After(new ClaimGroupDmaOwner("b", "o1")));
        Assert.Equal(["c"], After(new DriverBind("c")));           // bound without a group
        Assert.Equal(["c"], After(new Probe("c")));
        Assert.Equal(["a", "b"], After(new Release("a")));         // a left, b's group was replaced
        Assert.Equal(["c"], After(new Release("c")));              // unbound, and its group freed
        Assert.Equal(["b"], After(new Release("b")));
        Assert.Empty(session.State.Groups);
    }

    [Fact]
    public void A_failed_step_returns_the_same_state_instance()
    {
        Operation[][] scripts =
        [
            [new Probe("a"), new Probe("zz"), new AttachDevice("nope", "a"), new DomainAllocPaging("a", "d1"),
             new DomainAllocPaging("a", "d1"), new AttachGroup("d1", "c"), new DriverBind("a"), new DriverBind("a"),
             new ClaimDmaOwner("a", "o1"), new GroupTypeWrite("a", "identity"), new GroupTypeWrite("a", "bogus")],
            [new Probe("a"), new Probe("b"), new DomainAllocPaging("b", "d1"), new AttachDevice("d1", "a"),
             new AttachGroup("d1", "a"), new AttachGroup("d1", "b"), new DomainFree("d1"), new ClaimGroupDmaOwner("a", "o1"),
             new ClaimGroupDmaOwner("a", null), new DetachGroup("d1", "c"), new ReleaseGroupDmaOwner("c")],
        ];
        foreach (var script in scripts)
        {
            var state = TwoGroups().State;
            var failures = 0;
            foreach (var op in script)
            {
                var step = state.Step(op);
                if (step.Outcome.Errno != Errno.OK)
                {
                    failures++;
                    Assert.True(ReferenceEquals(state, step.Next), $"{op} failed with {step.Outcome} but changed the state");
                }
                state = step.Next;
            }
            Assert.True(failures >= 5);
        }
    }

    [Fact]
    public void Group_hash_covers_the_members()
    {
        var a = new GroupState("smmu0/g0", "smmu0", ["a"], DefaultKind.Dma, DomainRef.Default, null, 0);
        var b = a with { Members = ["b"] };
        Assert.NotEqual(a, b);
        Assert.NotEqual(a.GetHashCode(), b.GetHashCode());
        Assert.Equal(a.GetHashCode(), (a with { Members = ["a"] }).GetHashCode());
        Assert.NotEqual(a.GetHashCode(), (a with { Iommu = "smmu1" }).GetHashCode());
    }

    [Fact]
    public void States_differing_only_in_a_member_are_unequal()
    {
        var viaA = TwoGroups().Ok(new Probe("a")).State;
        var viaB = TwoGroups().Ok(new Probe("b")).State;
        Assert.NotEqual(viaA, viaB);
        Assert.NotEqual(viaA.GetHashCode(), viaB.GetHashCode());
    }
}
