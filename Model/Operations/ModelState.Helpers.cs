using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Model.Rules;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>Lookups, state updates and outcome builders shared by the operations.</summary>
public sealed partial class ModelState
{
    /// <summary><c>dev->iommu_group</c>: the live group the device is a member of, or null when it is not probed.</summary>
    private GroupState? GroupFor(string dev) =>
        machine.GroupIdOf(dev) is { } id && groups.TryGetValue(id, out var g) && g.Members.Contains(dev) ? g : null;

    /// <summary>The driver facts of the group's instance (a live group always has a known driver).</summary>
    private DriverFacts DriverOf(GroupState g) =>
        machine.Driver(g.Iommu) ?? throw new InvalidOperationException($"group {g.Id} has no driver");

    /// <summary>The topology entries of the group's members, in probe order.</summary>
    private IEnumerable<DeviceSpec> MemberSpecs(GroupState g) =>
        g.Members.Select(m => machine.Device(m)).OfType<DeviceSpec>();

    /// <summary>The state with this group stored; a group left without members is freed with all its domains.</summary>
    private ModelState WithGroup(GroupState g) =>
        With(groups: g.Members.IsEmpty ? groups.Remove(g.Id) : groups.SetItem(g.Id, g));

    private ModelState With(
        ImmutableSortedDictionary<string, GroupState>? groups = null,
        ImmutableSortedSet<string>? bound = null,
        ImmutableSortedDictionary<string, UserDomain>? domains = null,
        long? nextSeq = null,
        PasidState? pasid = null,
        ModelDma? dma = null,
        ImmutableSortedSet<string>? unitTables = null) =>
        new(machine, groups ?? this.groups, bound ?? this.bound, domains ?? this.domains, nextSeq ?? this.nextSeq)
        {
            Pasid = pasid ?? Pasid,
            Dma = dma ?? Dma,
            UnitTables = unitTables ?? UnitTables,
            Injected = Injected,
            AttachMark = AttachMark,
            _undecided = domains is null ? _undecided : -1,   // the same domains: the same answer
        };

    /// <summary>get_domain's name for a group's current domain.</summary>
    private static string DomainName(DomainRef? current) => current?.Role switch
    {
        DomainRole.Default => DomainNames.Default,
        DomainRole.Blocking => DomainNames.Blocking,
        DomainRole.User => current.Handle ?? DomainNames.None,
        _ => DomainNames.None,
    };

    /// <summary>A failed step: the errno, the warnings raised on the way, and this very state.</summary>
    private ModelStep Fail(Errno errno, params IEnumerable<string> warnings) =>
        new(new Outcome(errno, null, [.. warnings]), this);

    /// <summary>
    /// A failed step that may leave its group's hardware changed (a revert a member refused; a refused switch of a
    /// group without a domain, which is not reverted): the errno and warnings, with <paramref name="after"/> stored, or
    /// this very state when the group is the same instance.
    /// </summary>
    private ModelStep FailLeaving(Errno errno, GroupState before, GroupState after, string[] warnings) =>
        ReferenceEquals(before, after) ? Fail(errno, warnings) : new(new Outcome(errno, null, [.. warnings]), WithGroup(after));

    /// <summary>A successful step to <paramref name="next"/>, with the warnings raised on the way.</summary>
    private static ModelStep Ok(ModelState next, params IEnumerable<string> warnings) =>
        new(new Outcome(Errno.OK, null, [.. warnings]), next);

    /// <summary>A successful read: a value, and this state.</summary>
    private ModelStep Value(string value) => new(Outcome.OkWith(value), this);
}
