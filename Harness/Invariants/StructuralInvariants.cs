using IommuConformance.Contract;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Invariants;

/// <summary>
/// The structural invariants of this slice (kernel-semantics.md §c), checked on the implementation's snapshot after
/// every step. Order matters only for which message comes first: bookkeeping (c.6, c.9) before the checks that
/// rely on it.
/// </summary>
public static class StructuralInvariants
{
    public static readonly IReadOnlyList<Invariant> All =
    [
        new("c.6", "no live group without members; no group id used twice", NoLeakedGroups),
        new("c.9", "every referenced domain is live; the hardware reports no errors", NoDanglingDomains),
        new("c.19", "no leaked domain: every live domain is static, held by a group, or named by a live handle", NoLeakedDomains),
        new("c.1", "each probed device is in exactly one live group, and membership ⇔ device.GroupId", GroupMembership),
        new("c.2", "every member's hardware context matches its group's current domain", ContextsFollowGroupDomain),
        new("c.3", "a non-empty group with a default domain has a current domain", NonEmptyGroupHasDomain),
        new("c.4", "a user-owned group is not on its default domain (unless that is its blocking domain)", OwnedGroupIsolated),
        new("c.7", "a requireDirect device is never blocked", RequireDirectNeverBlocked),
        new("c.8", "a translating context uses a domain of the device's own driver and instance", TranslateOwnedByDriver),
    ];

    internal static string? NoLeakedGroups(SnapshotIndex s, InvariantContext _)
    {
        var ids = new HashSet<int>();
        foreach (var g in s.Snapshot.Groups)
        {
            if (!ids.Add(g.Id)) return $"group id {g.Id} is used by two live groups";
            if (g.Members.IsEmpty) return $"group {g.Id} ({g.Iommu}/{g.Key}) is live without members (leaked, refcount {g.RefCount})";
        }
        return null;
    }

    internal static string? NoDanglingDomains(SnapshotIndex s, InvariantContext context)
    {
        if (!s.Snapshot.HardwareErrors.IsEmpty && !context.HardwareMayLag) return $"hardware errors: {string.Join("; ", s.Snapshot.HardwareErrors)}";
        var ids = new HashSet<int>();
        foreach (var d in s.Snapshot.Domains)
            if (!ids.Add(d.Id)) return $"domain id {d.Id} is listed twice";
        foreach (var g in s.Snapshot.Groups)
            foreach (var (role, id) in new[] { ("domain", g.DomainId), ("default domain", g.DefaultDomainId), ("blocking domain", g.BlockingDomainId) })
                if (id is { } i && !ids.Contains(i)) return $"group {g.Id}'s {role} #{i} is not a live domain";
        if (context.HardwareMayLag) return null;
        foreach (var d in s.Snapshot.Devices)
            if (d.Context.DomainId is { } i && !ids.Contains(i))
                return $"{d.Name}'s hardware context {SnapshotIndex.Describe(d.Context)} references freed domain #{i}";
        return null;
    }

    internal static string? NoLeakedDomains(SnapshotIndex s, InvariantContext _)
    {
        var held = s.Snapshot.Groups
            .SelectMany(g => new[] { g.DomainId, g.DefaultDomainId, g.BlockingDomainId })
            .OfType<int>().ToHashSet();
        foreach (var d in s.Snapshot.Domains)
            if (!d.IsStatic && d.Handle is null && !held.Contains(d.Id))
                return $"{s.Describe(d.Id)} is live but no group holds it and no handle names it (leaked)";
        return null;
    }

    internal static string? GroupMembership(SnapshotIndex s, InvariantContext context)
    {
        var memberOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = new Dictionary<(string, string), int>();
        foreach (var g in s.Snapshot.Groups)
        {
            if (!keys.TryAdd((g.Iommu, g.Key), g.Id))
                return $"groups {keys[(g.Iommu, g.Key)]} and {g.Id} both hold key {g.Iommu}/{g.Key}";
            foreach (var m in g.Members)
            {
                if (!memberOf.TryAdd(m, g.Id)) return $"{m} is a member of groups {memberOf[m]} and {g.Id}";
                if (!s.Devices.TryGetValue(m, out var device)) return $"group {g.Id} lists unknown member {m}";
                if (device.GroupId != g.Id) return $"{m} is a member of group {g.Id} but its GroupId is {device.GroupId?.ToString() ?? "null"}";
                if (context.Device(m) is { } spec && (spec.Iommu != g.Iommu || spec.Group != g.Key))
                    return $"{m} (key {spec.Iommu}/{spec.Group}) sits in group {g.Id} of key {g.Iommu}/{g.Key}";
            }
        }
        foreach (var d in s.Snapshot.Devices)
            if (d.GroupId is { } id && !memberOf.ContainsKey(d.Name))
                return s.Groups.ContainsKey(id)
                    ? $"{d.Name} has GroupId {id} but is not among that group's members"
                    : $"{d.Name} has GroupId {id}, which is no live group";
        return null;
    }

    internal static string? ContextsFollowGroupDomain(SnapshotIndex s, InvariantContext context)
    {
        if (context.HardwareMayLag) return null;
        foreach (var g in s.Snapshot.Groups)
        {
            if (s.Domain(g.DomainId) is not { } domain) continue;
            var expected = ExpectedContext(domain);
            if (expected is null) continue;
            foreach (var m in g.Members)
                if (s.Devices.TryGetValue(m, out var device) && device.Context != expected)
                    return $"{m}'s hardware context is {SnapshotIndex.Describe(device.Context)}, but group {g.Id}'s domain is "
                        + $"{s.Describe(g.DomainId)} ({SnapshotIndex.Describe(expected)})";
        }
        return null;
    }

    /// <summary>The context a device attached to this domain must hold; null for a type this slice does not know.</summary>
    public static HwContext? ExpectedContext(DomainSnapshot domain) => domain.Type switch
    {
        GroupTypeStrings.Blocked => new HwContext(HwContextKind.Abort, null),
        GroupTypeStrings.Identity => new HwContext(HwContextKind.Bypass, null),
        GroupTypeStrings.Unmanaged or GroupTypeStrings.Dma or GroupTypeStrings.DmaFq => new HwContext(HwContextKind.Translate, domain.Id),
        _ => null,
    };

    internal static string? NonEmptyGroupHasDomain(SnapshotIndex s, InvariantContext _)
    {
        foreach (var g in s.Snapshot.Groups)
            if (!g.Members.IsEmpty && g.DefaultDomainId is not null && g.DomainId is null)
                return $"group {g.Id} has members and default domain {s.Describe(g.DefaultDomainId)} but no current domain";
        return null;
    }

    internal static string? OwnedGroupIsolated(SnapshotIndex s, InvariantContext context)
    {
        if (!context.OwnershipBalanced) return null;
        foreach (var g in s.Snapshot.Groups)
        {
            if (g.Owner is null) continue;
            if (g.OwnerCount < 1) return $"group {g.Id} is owned by \"{g.Owner}\" with owner_cnt {g.OwnerCount}";
            var defaultIsBlocking = g.DefaultDomainId == g.BlockingDomainId || s.Domain(g.DefaultDomainId)?.Type == GroupTypeStrings.Blocked;
            if (g.DomainId is not null && g.DomainId == g.DefaultDomainId && !defaultIsBlocking)
                return $"group {g.Id} is owned by \"{g.Owner}\" but still on its default domain {s.Describe(g.DomainId)}";
        }
        return null;
    }

    internal static string? RequireDirectNeverBlocked(SnapshotIndex s, InvariantContext context)
    {
        foreach (var d in s.Snapshot.Devices)
        {
            if (d.GroupId is not { } id || context.Device(d.Name) is not { RequireDirect: true }) continue;
            if (d.Context.Kind == HwContextKind.Abort) return $"requireDirect device {d.Name}'s hardware context is abort";
            // After a refused MUST_SUCCEED switch the kernel moves group->domain regardless (see HardwareMayLag).
            if (!context.HardwareMayLag && s.Groups.TryGetValue(id, out var g) && g.DomainId is not null
                && (g.DomainId == g.BlockingDomainId || s.Domain(g.DomainId)?.Type == GroupTypeStrings.Blocked))
                return $"requireDirect device {d.Name}'s group {g.Id} is on blocking domain {s.Describe(g.DomainId)}";
        }
        return null;
    }

    internal static string? TranslateOwnedByDriver(SnapshotIndex s, InvariantContext context)
    {
        foreach (var d in s.Snapshot.Devices)
        {
            if (d.Context.Kind != HwContextKind.Translate || s.Domain(d.Context.DomainId) is not { } domain) continue;
            var driver = context.DriverOf(d.Name);
            if (driver is null) return $"{d.Name} sits behind no IOMMU but translates through {s.Describe(domain.Id)}";
            if (domain.OwnerDriver != driver)
                return $"{d.Name} ({driver}) translates through {s.Describe(domain.Id)} owned by {domain.OwnerDriver ?? "no driver"}";
            // Only smmuv3 finalises a paging domain on one instance (docs/operations.md); mock domains roam.
            var iommu = context.Device(d.Name)?.Iommu;
            if (driver == DriverNames.Smmuv3 && domain.Iommu is not null && domain.Iommu != iommu)
                return $"{d.Name} (on {iommu}) translates through {s.Describe(domain.Id)} finalised on {domain.Iommu}";
        }
        return null;
    }
}
