using IommuConformance.Contract;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// c.10: a failed operation leaves the implementation's state exactly as before, except the documented leftovers
/// of this slice (docs/operations.md): the blocking domain that take-ownership got on the way (static or new) stays
/// with the group, a DMA-FQ default domain downgraded to DMA on an instance without DEFERRED_FLUSH stays
/// downgraded, and a default domain whose first attach failed stays the group's default (and current) domain when
/// the group keeps other members (left by an aborted bus probe); a member left off the group's domain by an earlier
/// failure that the revert puts back on it; a legacy VT-d unit's context table made on the way (its devices' entries
/// now read not present instead of none). Judged on the objects the step touched, compared structurally.
/// </summary>
public static class Atomicity
{
    /// <param name="groupNow">The group of an id after the step.</param>
    /// <param name="contextNow">The hardware context the current domain of the group of an id puts its members on.</param>
    /// <param name="tableMade">Whether the step made the table of the device's instance (a legacy VT-d unit's context
    /// table, made at its first present entry and kept: <c>ModelState.HasUnitTable</c> before and after).</param>
    public static string? Violation(IReadOnlyList<ObjectChange> changes, Outcome outcome, Func<int, GroupSnapshot?>? groupNow = null,
        Func<int, HwContext?>? contextNow = null, Func<string, bool>? tableMade = null)
    {
        // A table made on the way stays (iommu_context_addr's context table, kept for the unit's life): the unit's
        // devices that held no entry now hold a not-present one, which decodes as abort.
        bool Tabled(DeviceSnapshot before, DeviceSnapshot after) =>
            before.Context == HwContext.None && after.Context.Kind == HwContextKind.Abort && tableMade?.Invoke(before.Name) == true;
        // __iommu_group_set_domain_internal() does not revert a failed switch of a group with no current domain
        // ("leave group->domain as NULL and let release clean everything up"): the devices switched before the
        // refusal keep their new hardware entries. Reachable for groups an aborted bus probe left without domains.
        var noRevert = new HashSet<int>();
        foreach (var c in changes)
            if (c.Before is GroupSnapshot { DomainId: null } g) noRevert.Add(g.Id);
        // A device that refuses the revert itself (WARN set_domain_revert_failed) keeps the new domain as well.
        var revertFailed = outcome.Warnings.Contains(Warn.SetDomainRevertFailed);
        bool Unreverted(DeviceSnapshot d) => d.GroupId is { } id
            && (revertFailed || noRevert.Contains(id) || (groupNow?.Invoke(id) is { DomainId: null } && !changes.Any(c => c.Before is GroupSnapshot b && b.Id == id)));
        // The revert re-attaches every member up to the refusing one to group->domain, so a member an earlier failure
        // left elsewhere (a refused revert or MUST_SUCCEED switch) comes back to the group's domain, and only there.
        bool Rejoined(DeviceSnapshot before, DeviceSnapshot after) => before.GroupId is { } id
            && contextNow?.Invoke(id) is { } expected && after.Context == expected && before.Context != expected;
        var kept = new HashSet<int>();
        foreach (var c in changes)
            if (c is { Before: GroupSnapshot { BlockingDomainId: null }, After: GroupSnapshot { BlockingDomainId: { } b } g } && g.DomainId != b)
                kept.Add(b);
        // iommu_setup_default_domain() keeps a default domain whose first attach failed in group->default_domain (and,
        // under MUST_SUCCEED, group->domain) "so it is freed after"; a group an aborted bus probe left with other
        // members keeps it.
        if (outcome.Warnings.Contains(Warn.DefaultDomainFirstAttachFailed))
            foreach (var c in changes)
                if (c is { Before: GroupSnapshot { DefaultDomainId: null, DomainId: null }, After: GroupSnapshot { DefaultDomainId: { } d } })
                    kept.Add(d);
        var differences = new List<string>();
        foreach (var c in changes)
            if (!Same(Undo(c.Before, c.After, kept), c.Before) && !(c.Before is null && c.After is DomainSnapshot d && kept.Contains(d.Id))
                && !(c is { Before: DeviceSnapshot db, After: DeviceSnapshot da } && da == db with { Context = da.Context }
                     && (Unreverted(db) || Rejoined(db, da) || Tabled(db, da))))
                differences.Add($"  before: {Show(c.Before)}\n  after:  {Show(c.After)}");
        return differences.Count == 0 ? null
            : $"c.10: the failed step ({outcome}) changed the state:\n{string.Join("\n", differences.Take(4))}";
    }

    /// <summary>The same judgement on two whole snapshots (tests, diagnostics).</summary>
    public static string? Violation(SystemSnapshot before, SystemSnapshot after) =>
        Violation(Changes(before, after), Outcome.Of(Errno.EINVAL));

    /// <summary>Every object that differs between two whole snapshots, paired by name or id.</summary>
    public static List<ObjectChange> Changes(SystemSnapshot before, SystemSnapshot after)
    {
        var changes = new List<ObjectChange>();
        Pair(before.Devices, after.Devices, d => d.Name, changes);
        Pair(before.Groups, after.Groups, g => g.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), changes);
        Pair(before.Domains, after.Domains, d => d.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), changes);
        return changes;
    }

    private static void Pair<T>(IEnumerable<T> before, IEnumerable<T> after, Func<T, string> key, List<ObjectChange> changes) where T : class
    {
        var old = before.ToDictionary(key);
        var now = after.ToDictionary(key);
        foreach (var k in old.Keys.Union(now.Keys))
        {
            var (a, b) = (old.GetValueOrDefault(k), now.GetValueOrDefault(k));
            if (!Same(a, b)) changes.Add(new ObjectChange(a, b));
        }
    }

    /// <summary>The after-snapshot with the documented leftovers undone.</summary>
    private static object? Undo(object? before, object? after, HashSet<int> kept) => (before, after) switch
    {
        (GroupSnapshot { DefaultDomainId: null, DomainId: null }, GroupSnapshot { DefaultDomainId: { } d } g) when kept.Contains(d)
            => g with { DefaultDomainId = null, DomainId = g.DomainId == d ? null : g.DomainId },
        (GroupSnapshot { BlockingDomainId: null }, GroupSnapshot { BlockingDomainId: { } b } g) when g.DomainId != b
            => g with { BlockingDomainId = null },
        (DomainSnapshot { Type: GroupTypeStrings.DmaFq }, DomainSnapshot { Type: GroupTypeStrings.Dma } d) => d with { Type = GroupTypeStrings.DmaFq },
        _ => after,
    };

    /// <summary>Structural equality of two snapshots of one object (records compare arrays by reference).</summary>
    public static bool Same(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (GroupSnapshot x, GroupSnapshot y) => x.Equals(y),   // by value, members in order included
        (DeviceSnapshot x, DeviceSnapshot y) => x == y,
        (DomainSnapshot x, DomainSnapshot y) => x == y,
        _ => false,
    };

    public static string Show(object? snapshot) => snapshot switch
    {
        null => "(none)",
        GroupSnapshot g => $"group {g.Id} {g.Iommu}/{g.Key} members [{string.Join(", ", g.Members)}] domain {N(g.DomainId)} default {N(g.DefaultDomainId)} "
            + $"blocking {N(g.BlockingDomainId)} owner {g.Owner ?? "null"} owner_cnt {g.OwnerCount} refcount {g.RefCount}"
            + (g.Pasids.IsEmpty ? "" : $" pasids [{string.Join(", ", g.Pasids.Select(p => $"{p.Pasid}: #{p.DomainId} {p.Handle}{(p.Users > 0 ? $" x{p.Users}" : "")}"))}]"),
        DeviceSnapshot d => $"device {d.Name} group {N(d.GroupId)} bound {d.DriverBound} context {Invariants.StateView.Describe(d.Context)}",
        DomainSnapshot d => $"domain #{d.Id} {d.Type} {d.Driver}{(d.Handle is null ? "" : $" \"{d.Handle}\"")}{(d.IsStatic ? " static" : "")}",
        _ => snapshot.ToString() ?? "",
    };

    private static string N(int? id) => id?.ToString() ?? "null";
}
