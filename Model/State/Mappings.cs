using System.Collections.Immutable;

namespace IommuConformance.Model.State;

/// <summary>
/// A run of leaves one map_pages call installed: [<see cref="Iova"/>, <see cref="End"/>) → <see cref="Paddr"/>, each
/// leaf <see cref="Leaf"/> bytes (the page size the best-page-size rule chose; for virtio the whole MAP request is one
/// leaf), with the prot bits of <c>ProtFlags</c>. <see cref="StartMark"/> and <see cref="LastMark"/> are the mock's
/// START / LAST markers on the run's first and last 2 KiB slot (false for the other formats). A run may be cut at leaf
/// boundaries (an unmap of some of its leaves); never inside a leaf.
/// </summary>
public sealed record Run(ulong Iova, ulong Size, ulong Paddr, int Prot, ulong Leaf, bool StartMark = false, bool LastMark = false)
{
    public ulong End => Iova + Size;

    public bool Contains(ulong iova) => iova >= Iova && iova - Iova < Size;

    /// <summary>The part of this run in [start, end) (both leaf-aligned within it); markers kept only at the run's own ends.</summary>
    public Run Slice(ulong start, ulong end) =>
        new(start, end - start, Paddr + (start - Iova), Prot, Leaf, StartMark && start == Iova, LastMark && end == End);
}

/// <summary>
/// One paging domain's mappings, immutable and cheap to copy: runs sorted by IOVA (disjoint), and for the Arm LPAE
/// format the table entries that exist (an entry of <c>Size</c> bytes at <c>Base</c> that points to a next-level
/// table: io-pgtable-arm frees a table only when an unmap or a block map removes its entry, so an emptied table
/// stays, and an unmap at that entry's size removes it whole).
/// </summary>
public sealed class DomainMappings : IEquatable<DomainMappings>
{
    private static readonly IComparer<Run> ByIova = Comparer<Run>.Create((a, b) => a.Iova.CompareTo(b.Iova));

    public static readonly DomainMappings Empty = new(ImmutableSortedSet.Create(ByIova), []);

    private DomainMappings(ImmutableSortedSet<Run> runs, ImmutableSortedSet<(ulong Base, ulong Size)> tables)
    {
        Runs = runs;
        Tables = tables;
    }

    public ImmutableSortedSet<Run> Runs { get; }

    public ImmutableSortedSet<(ulong Base, ulong Size)> Tables { get; }

    public bool IsEmpty => Runs.IsEmpty;

    /// <summary>Total bytes mapped.</summary>
    public ulong Bytes => Runs.Aggregate(0UL, (sum, r) => sum + r.Size);

    /// <summary>The run holding <paramref name="iova"/>, or null.</summary>
    public Run? Find(ulong iova)
    {
        var i = Floor(iova);
        return i >= 0 && Runs[i].Contains(iova) ? Runs[i] : null;
    }

    /// <summary>The runs overlapping [start, end), in IOVA order.</summary>
    public IEnumerable<Run> Overlapping(ulong start, ulong end)
    {
        if (end <= start) yield break;
        var i = Math.Max(Floor(start), 0);
        for (; i < Runs.Count && Runs[i].Iova < end; i++)
            if (Runs[i].End > start) yield return Runs[i];
    }

    /// <summary>The first run starting at or after <paramref name="iova"/> (or holding it), or null.</summary>
    public Run? AtOrAfter(ulong iova)
    {
        var i = Math.Max(Floor(iova), 0);
        for (; i < Runs.Count; i++)
            if (Runs[i].End > iova) return Runs[i];
        return null;
    }

    /// <summary>Index of the last run starting at or before <paramref name="iova"/>, or -1.</summary>
    private int Floor(ulong iova)
    {
        var r = Runs.IndexOf(new Run(iova, 0, 0, 0, 0));
        return r >= 0 ? r : ~r - 1;
    }

    public DomainMappings Add(Run run) => new(Runs.Add(run), Tables);

    /// <summary>These mappings with [start, end) unmapped: runs inside removed, runs across an end cut there.</summary>
    public DomainMappings Remove(ulong start, ulong end)
    {
        var hit = Overlapping(start, end).ToList();
        if (hit.Count == 0) return this;
        var runs = Runs.Except(hit);
        foreach (var r in hit)
        {
            if (r.Iova < start) runs = runs.Add(r.Slice(r.Iova, start));
            if (r.End > end) runs = runs.Add(r.Slice(end, r.End));
        }
        return new(runs, Tables);
    }

    public bool HasTable(ulong @base, ulong size) => Tables.Contains((@base, size));

    public DomainMappings AddTable(ulong @base, ulong size) => HasTable(@base, size) ? this : new(Runs, Tables.Add((@base, size)));

    /// <summary>These mappings with every table entry of at most <paramref name="maxSize"/> bytes inside [start, end) removed.</summary>
    public DomainMappings RemoveTables(ulong start, ulong end, ulong maxSize)
    {
        var gone = Tables.Where(t => t.Size <= maxSize && t.Base >= start && t.Base < end).ToList();
        return gone.Count == 0 ? this : new(Runs, Tables.Except(gone));
    }

    public bool Equals(DomainMappings? other) =>
        other is not null && (ReferenceEquals(this, other) || (Runs.SequenceEqual(other.Runs) && Tables.SequenceEqual(other.Tables)));

    public override bool Equals(object? obj) => Equals(obj as DomainMappings);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var r in Runs) hash.Add(r);
        hash.Add(Tables.Count);
        return hash.ToHashCode();
    }
}
