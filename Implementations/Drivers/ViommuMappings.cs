namespace IommuConformance.Implementations.Drivers;

/// <summary>struct viommu_mapping: one MAP request the driver made, inclusive [Start, Last].</summary>
public readonly record struct ViommuMapping(ulong Start, ulong Last, ulong Paddr, uint Flags)
{
    public ulong Size => Last - Start + 1;
}

/// <summary>
/// viommu_domain->mappings: the driver's own interval tree of the MAP requests it made (kept so that the mappings
/// can be replayed when the domain is attached again, and read by iova_to_phys). Like the kernel's interval tree it
/// does not refuse overlaps; iteration is in start order (an equal start goes after the existing node).
/// </summary>
public sealed class ViommuMappings
{
    private readonly List<ViommuMapping> _byStart = [];

    public int Count => _byStart.Count;

    public IReadOnlyList<ViommuMapping> All => _byStart;

    // viommu_add_mapping
    public void Add(ViommuMapping m)
    {
        var i = _byStart.Count;
        while (i > 0 && _byStart[i - 1].Start > m.Start) i--;
        _byStart.Insert(i, m);
    }

    /// <summary>interval_tree_iter_first / iter_next: the mappings overlapping [start, last], in start order.</summary>
    public IEnumerable<ViommuMapping> Overlapping(ulong start, ulong last)
    {
        foreach (var m in _byStart.ToArray())
        {
            if (m.Start > last) yield break;
            if (m.Last >= start) yield return m;
        }
    }

    public bool Remove(ViommuMapping m) => _byStart.Remove(m);

    public void Clear() => _byStart.Clear();
}
