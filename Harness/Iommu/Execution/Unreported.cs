using IommuConformance.Harness.Iommu.Invariants;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// What a full snapshot shows that the incrementally kept view does not: objects the implementation changed
/// without reporting them as touched. Rendered as text only when there is a difference.
/// </summary>
public static class Unreported
{
    public static string? Describe(StateView view, SystemSnapshot full)
    {
        var differences = new List<string>();
        foreach (var d in full.Devices)
            if (!Atomicity.Same(view.Device(d.Name), d)) differences.Add(Line(view.Device(d.Name), d));
        var liveGroups = new HashSet<int>();
        foreach (var g in full.Groups)
        {
            liveGroups.Add(g.Id);
            if (!Atomicity.Same(view.Group(g.Id), g)) differences.Add(Line(view.Group(g.Id), g));
        }
        foreach (var g in view.Groups)
            if (!liveGroups.Contains(g.Id)) differences.Add(Line(g, null));
        var liveDomains = new HashSet<int>();
        foreach (var d in full.Domains)
        {
            liveDomains.Add(d.Id);
            if (!Atomicity.Same(view.Domain(d.Id), d)) differences.Add(Line(view.Domain(d.Id), d));
        }
        foreach (var d in view.Domains)
            if (!liveDomains.Contains(d.Id)) differences.Add(Line(d, null));
        return differences.Count == 0 ? null
            : $"the implementation changed {differences.Count} object(s) without reporting them as touched:\n{string.Join("\n", differences.Take(4))}";
    }

    private static string Line(object? known, object? actual) =>
        $"  known:  {Atomicity.Show(known)}\n  actual: {Atomicity.Show(actual)}";
}
