using IommuConformance.Contract;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Invariants;

/// <summary>
/// c.10: a failed operation leaves the implementation's state exactly as before, except the documented leftovers
/// of this slice (docs/operations.md): the blocking domain that take-ownership got on the way (static or new)
/// stays with the group, and a DMA-FQ default domain downgraded to DMA on an instance without DEFERRED_FLUSH stays downgraded.
/// </summary>
public static class Atomicity
{
    /// <summary>Null when the failed step left the state as it found it, else which lines changed.</summary>
    public static string? Violation(SystemSnapshot before, SystemSnapshot after)
    {
        var old = SnapshotText.Lines(before);
        var now = SnapshotText.Lines(WithoutLeftovers(before, after));
        if (old.SequenceEqual(now)) return null;
        var removed = old.Except(now).Take(4).Select(l => $"  before: {l}");
        var added = now.Except(old).Take(4).Select(l => $"  after:  {l}");
        return "c.10: the failed step changed the state:\n" + string.Join("\n", removed.Concat(added));
    }

    /// <summary>The after-snapshot with the documented leftovers undone, so that only real changes remain.</summary>
    internal static SystemSnapshot WithoutLeftovers(SystemSnapshot before, SystemSnapshot after)
    {
        var oldDomains = before.Domains.ToDictionary(d => d.Id);
        var oldGroups = before.Groups.ToDictionary(g => g.Id);
        var newBlocking = new HashSet<int>();
        var groups = after.Groups.Select(g =>
        {
            // iommu_get_blocking_domain() keeps what it got (the driver's static blocked domain or a new one).
            if (g.BlockingDomainId is { } b && oldGroups.TryGetValue(g.Id, out var old) && old.BlockingDomainId is null
                && g.DomainId != b)
            {
                if (!oldDomains.ContainsKey(b)) newBlocking.Add(b);
                return g with { BlockingDomainId = null };
            }
            return g;
        }).ToList();
        var domains = after.Domains
            .Where(d => !newBlocking.Contains(d.Id))
            .Select(d => oldDomains.TryGetValue(d.Id, out var old) && old.Type == GroupTypeStrings.DmaFq && d.Type == GroupTypeStrings.Dma ? d with { Type = old.Type } : d)
            .ToList();
        return after with { Groups = [.. groups], Domains = [.. domains] };
    }
}
