using IommuConformance.Contract;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// The structural invariants of this slice (kernel-semantics.md §c), checked on the harness's view of the
/// implementation for the objects a step could have changed, and on everything at sweeps. Order matters only for
/// which message comes first: bookkeeping (c.6, c.21, c.9) before the checks that rely on it.
/// </summary>
public static class StructuralInvariants
{
    public static readonly IReadOnlyList<Invariant> All =
    [
        new("c.6", "no live group without members; no id used twice", NoLeakedGroups),
        new("c.21", "a group's refcount is its member count between steps (no external reference is held then)", GroupRefcount),
        new("c.9", "every referenced domain is live; the hardware reports no errors", NoDanglingDomains),
        new("c.19", "no leaked domain: every live domain is static, held by a group, or named by a live handle", NoLeakedDomains),
        new("c.1", "each probed device is in exactly one live group, and membership ⇔ device.GroupId", GroupMembership),
        new("c.2", "every member's hardware context matches its group's current domain", ContextsFollowGroupDomain),
        new("c.3", "a non-empty group with a default domain has a current domain", NonEmptyGroupHasDomain),
        new("c.4", "a user-owned group is not on its default domain (unless that is its blocking domain)", OwnedGroupIsolated),
        new("c.7", "a requireDirect device is never blocked", RequireDirectNeverBlocked),
        new("c.8", "a translating context uses a domain of the device's own driver (and instance, where the driver binds domains to one)", TranslateOwnedByDriver),
    ];

    internal static string? NoLeakedGroups(StateView s, Scope scope, InvariantContext _)
    {
        if (s.Duplicates.Count > 0) return s.Duplicates[0];
        foreach (var id in scope.Groups)
            if (s.Group(id) is { Members.IsEmpty: true } g)
                return $"group {g.Id} ({g.Iommu}/{g.Key}) is live without members (leaked, refcount {g.RefCount})";
        return null;
    }

    internal static string? GroupRefcount(StateView s, Scope scope, InvariantContext _)
    {
        foreach (var id in scope.Groups)
            if (s.Group(id) is { } g && g.RefCount != g.Members.Length)
                return $"group {g.Id} ({g.Iommu}/{g.Key}) has refcount {g.RefCount} with {g.Members.Length} member(s): a reference was leaked or dropped";
        return null;
    }

    internal static string? NoDanglingDomains(StateView s, Scope scope, InvariantContext context)
    {
        // The hardware error log is a record of events: each error is judged once, when it appears.
        for (var i = context.HardwareErrorsJudged; i < s.HardwareErrors.Count; i++)
            if (!context.Waived(s.HardwareErrors[i])) return $"hardware error: {s.HardwareErrors[i]}";
        foreach (var id in scope.Groups)
        {
            if (s.Group(id) is not { } g) continue;
            if ((Dangling(s, g, "domain", g.DomainId) ?? Dangling(s, g, "default domain", g.DefaultDomainId)
                ?? Dangling(s, g, "blocking domain", g.BlockingDomainId)) is { } message) return message;
        }
        foreach (var name in scope.Devices)
            if (s.Device(name) is { Context.DomainId: { } i } d && s.Domain(i) is null && !context.LaggingDevices.Contains(name))
                return $"{d.Name}'s hardware context {StateView.Describe(d.Context)} references freed domain #{i}";
        return null;
    }

    private static string? Dangling(StateView s, GroupSnapshot g, string role, int? domain) =>
        domain is { } i && s.Domain(i) is null ? $"group {g.Id}'s {role} #{i} is not a live domain" : null;

    internal static string? NoLeakedDomains(StateView s, Scope scope, InvariantContext _)
    {
        foreach (var id in scope.Domains)
            if (s.Domain(id) is { IsStatic: false, Handle: null } d && s.HoldersOf(id).Count == 0)
                return $"{s.Describe(d.Id)} is live but no group holds it and no handle names it (leaked)";
        return null;
    }

    internal static string? GroupMembership(StateView s, Scope scope, InvariantContext context)
    {
        foreach (var id in scope.Groups)
        {
            if (s.Group(id) is not { } g) continue;
            if (s.GroupsWithKey(g.Iommu, g.Key) is { Count: > 1 } same)
                return $"groups {string.Join(" and ", same.Order())} both hold key {g.Iommu}/{g.Key}";
            foreach (var m in g.Members)
            {
                if (s.Device(m) is not { } device) return $"group {g.Id} lists unknown member {m}";
                if (device.GroupId != g.Id) return $"{m} is a member of group {g.Id} but its GroupId is {device.GroupId?.ToString() ?? "null"}";
                if (context.Device(m) is { } spec && (spec.Iommu != g.Iommu || spec.Group != g.Key))
                    return $"{m} (key {spec.Iommu}/{spec.Group}) sits in group {g.Id} of key {g.Iommu}/{g.Key}";
            }
        }
        foreach (var name in scope.Devices)
            if (s.Device(name) is { GroupId: { } id } d && !(s.Group(id)?.Members.Contains(d.Name) ?? false))
                return s.Group(id) is not null
                    ? $"{d.Name} has GroupId {id} but is not among that group's members"
                    : $"{d.Name} has GroupId {id}, which is no live group";
        return null;
    }

    internal static string? ContextsFollowGroupDomain(StateView s, Scope scope, InvariantContext context)
    {
        foreach (var id in scope.Groups)
        {
            if (s.Group(id) is not { } g || s.Domain(g.DomainId) is not { } domain) continue;
            if (ExpectedContext(domain) is not { } expected) continue;
            foreach (var m in g.Members)
                if (s.Device(m) is { } device && device.Context != expected && !context.LaggingDevices.Contains(m)
                    && !NoEntryForAbort(expected, device.Context, m, context))
                    return $"{m}'s hardware context is {StateView.Describe(device.Context)}, but group {g.Id}'s domain is "
                        + $"{s.Describe(g.DomainId)} ({StateView.Describe(expected)})";
        }
        return null;
    }

    /// <summary>An abort expected where the device's instance has made no table yet, so the device holds no entry (<see cref="InvariantContext.TablelessInstances"/>).</summary>
    public static bool NoEntryForAbort(HwContext expected, HwContext actual, string device, InvariantContext context) =>
        expected.Kind == HwContextKind.Abort && actual == HwContext.None && context.HoldsNoEntry(device);

    /// <summary>The context a device attached to this domain must hold; null for a type this slice does not know.</summary>
    public static HwContext? ExpectedContext(DomainSnapshot domain) => domain.Type switch
    {
        GroupTypeStrings.Blocked => Abort,
        GroupTypeStrings.Identity => Bypass,
        GroupTypeStrings.Unmanaged or GroupTypeStrings.Dma or GroupTypeStrings.DmaFq => new HwContext(HwContextKind.Translate, domain.Id),
        _ => null,
    };

    private static readonly HwContext Abort = new(HwContextKind.Abort, null);
    private static readonly HwContext Bypass = new(HwContextKind.Bypass, null);

    internal static string? NonEmptyGroupHasDomain(StateView s, Scope scope, InvariantContext _)
    {
        foreach (var id in scope.Groups)
            if (s.Group(id) is { Members.IsEmpty: false, DefaultDomainId: not null, DomainId: null } g)
                return $"group {g.Id} has members and default domain {s.Describe(g.DefaultDomainId)} but no current domain";
        return null;
    }

    internal static string? OwnedGroupIsolated(StateView s, Scope scope, InvariantContext context)
    {
        foreach (var id in scope.Groups)
        {
            if (s.Group(id) is not { Owner: not null } g || context.UnbalancedGroups.Contains(id)) continue;
            if (g.OwnerCount < 1) return $"group {g.Id} is owned by \"{g.Owner}\" with owner_cnt {g.OwnerCount}";
            var defaultIsBlocking = g.DefaultDomainId == g.BlockingDomainId || s.Domain(g.DefaultDomainId)?.Type == GroupTypeStrings.Blocked;
            if (g.DomainId is not null && g.DomainId == g.DefaultDomainId && !defaultIsBlocking)
                return $"group {g.Id} is owned by \"{g.Owner}\" but still on its default domain {s.Describe(g.DomainId)}";
        }
        return null;
    }

    internal static string? RequireDirectNeverBlocked(StateView s, Scope scope, InvariantContext context)
    {
        foreach (var name in scope.Devices)
        {
            if (s.Device(name) is not { GroupId: { } id } d || context.Device(name) is not { RequireDirect: true }) continue;
            // While group->domain is NULL the core has attached nothing to this group yet (bus_iommu_probe left it
            // without a default domain): the entry is what the IOMMU's reset or the device's last release left, which
            // on VT-d (a not-present context entry) and on a release to BLOCKED is exactly the blocking domain's abort.
            if (s.Group(id) is not { DomainId: not null } g) continue;
            // A device whose first attach failed keeps the entry the IOMMU's reset left, an abort (NeverAttached).
            if (d.Context.Kind == HwContextKind.Abort && !context.IsNeverAttached(name))
                return $"requireDirect device {d.Name}'s hardware context is abort";
            // After a refused MUST_SUCCEED switch the kernel moves group->domain regardless (LaggingDevices).
            if (!context.LaggingDevices.Contains(name)
                && (g.DomainId == g.BlockingDomainId || s.Domain(g.DomainId)?.Type == GroupTypeStrings.Blocked))
                return $"requireDirect device {d.Name}'s group {g.Id} is on blocking domain {s.Describe(g.DomainId)}";
        }
        return null;
    }

    internal static string? TranslateOwnedByDriver(StateView s, Scope scope, InvariantContext context)
    {
        foreach (var name in scope.Devices)
        {
            if (s.Device(name) is not { Context.Kind: HwContextKind.Translate } d || s.Domain(d.Context.DomainId) is not { } domain) continue;
            var driver = context.DriverOf(name);
            if (driver is null) return $"{name} sits behind no IOMMU but translates through {s.Describe(domain.Id)}";
            if (domain.OwnerDriver != driver)
                return $"{name} ({driver}) translates through {s.Describe(domain.Id)} owned by {domain.OwnerDriver ?? "no driver"}";
            var iommu = context.Device(name)?.Iommu;
            if (DriverCapabilities.For(driver) is { DomainPerInstance: true } && domain.Iommu is not null && domain.Iommu != iommu)
                return $"{name} (on {iommu}) translates through {s.Describe(domain.Id)} finalised on {domain.Iommu}";
        }
        return null;
    }
}
