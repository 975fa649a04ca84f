using IommuConformance.Contract;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// The invariants of <see cref="StructuralInvariants.All"/> as one pass over a scope that fetches each object once and
/// answers only whether they all hold. <see cref="StructuralInvariants"/> stays their definition: when this pass finds
/// anything, the checker runs the ordered list for the first message in order, so a fused pass never changes a
/// verdict or a message, only the cost of a step where everything holds (nearly every step). Each test here mirrors
/// one in the ordered list, named by its id; <see cref="Covers"/> lists the ids mirrored, and the checker runs any
/// other invariant of the list on its own. InvariantTests pins the agreement on broken snapshots and generated traces.
/// </summary>
internal static class FusedInvariants
{
    public static readonly IReadOnlySet<string> Covers =
        new HashSet<string>(["c.6", "c.21", "c.9", "c.19", "c.1", "c.2", "c.3", "c.4", "c.7", "c.8"], StringComparer.Ordinal);

    /// <summary>True when every covered invariant holds over the scope.</summary>
    public static bool Hold(StateView s, Scope scope, InvariantContext context)
    {
        if (s.Duplicates.Count > 0) return false; // c.6
        for (var i = context.HardwareErrorsJudged; i < s.HardwareErrors.Count; i++)
            if (!context.Waived(s.HardwareErrors[i])) return false; // c.9
        foreach (var id in scope.Groups)
            if (s.Group(id) is { } g && !GroupHolds(s, g, context)) return false;
        foreach (var name in scope.Devices)
            if (s.Device(name) is { } d && !DeviceHolds(s, d, context)) return false;
        foreach (var id in scope.Domains)
            if (s.Domain(id) is { IsStatic: false, Handle: null } && s.HoldersOf(id).Count == 0) return false; // c.19
        return true;
    }

    private static bool GroupHolds(StateView s, Implementations.GroupSnapshot g, InvariantContext context)
    {
        if (g.Members.IsEmpty || g.RefCount != g.Members.Length) return false; // c.6, c.21
        var domain = s.Domain(g.DomainId);
        if (g.DomainId is not null && domain is null) return false; // c.9
        if (g.DefaultDomainId is not null && s.Domain(g.DefaultDomainId) is null) return false;
        if (g.BlockingDomainId is not null && s.Domain(g.BlockingDomainId) is null) return false;
        if (g.DefaultDomainId is not null && g.DomainId is null) return false; // c.3
        if (s.GroupsWithKey(g.Iommu, g.Key).Count > 1) return false; // c.1
        var expected = domain is null ? null : StructuralInvariants.ExpectedContext(domain);
        foreach (var m in g.Members)
        {
            if (s.Device(m) is not { } device || device.GroupId != g.Id) return false; // c.1
            if (context.Device(m) is { } spec && (spec.Iommu != g.Iommu || spec.Group != g.Key)) return false;
            if (expected is not null && device.Context != expected && !context.IsLagging(m)
                && !StructuralInvariants.NoEntryForAbort(expected, device.Context, m, context)) return false; // c.2
        }
        if (g.Owner is not null && !context.UnbalancedGroups.Contains(g.Id)) // c.4
        {
            if (g.OwnerCount < 1) return false;
            var defaultIsBlocking = g.DefaultDomainId == g.BlockingDomainId || s.Domain(g.DefaultDomainId)?.Type == GroupTypeStrings.Blocked;
            if (g.DomainId is not null && g.DomainId == g.DefaultDomainId && !defaultIsBlocking) return false;
        }
        return true;
    }

    private static bool DeviceHolds(StateView s, Implementations.DeviceSnapshot d, InvariantContext context)
    {
        var lagging = context.IsLagging(d.Name);
        var translating = s.Domain(d.Context.DomainId);
        if (d.Context.DomainId is not null && translating is null && !lagging) return false; // c.9
        var spec = context.Device(d.Name);
        if (d.GroupId is { } id)
        {
            if (s.Group(id) is not { } g || !g.Members.Contains(d.Name)) return false; // c.1
            if (spec is { RequireDirect: true } && g.DomainId is not null) // c.7, from the group's first attach on
            {
                if (d.Context.Kind == Implementations.HwContextKind.Abort && !context.IsNeverAttached(d.Name)) return false;
                if (!lagging && (g.DomainId == g.BlockingDomainId || s.Domain(g.DomainId)?.Type == GroupTypeStrings.Blocked)) return false;
            }
        }
        if (d.Context.Kind == Implementations.HwContextKind.Translate && translating is not null) // c.8
        {
            var driver = context.DriverOfInstance(spec?.Iommu);
            if (driver is null || translating.OwnerDriver != driver) return false;
            if (DriverCapabilities.For(driver) is { DomainPerInstance: true } && translating.Iommu is not null && translating.Iommu != spec?.Iommu)
                return false;
        }
        return true;
    }
}
