using System.Collections.Immutable;

namespace IommuConformance.Model.State;

/// <summary>
/// What one slot of <c>group->pasid_array</c> holds, always with an attach handle (iommufd and SVA both pass one):
/// a trace's paging domain (<see cref="Handle"/> with its allocation <see cref="Seq"/>), or an SVA bond
/// (<see cref="Bond"/>, whose domain is the bond's).
/// </summary>
public sealed record PasidEntry(string? Handle, long Seq, int Bond)
{
    public static PasidEntry User(string handle, long seq) => new(handle, seq, -1);

    public static PasidEntry Sva(int bond) => new(null, -1, bond);

    public bool IsSva => Bond >= 0;
}

/// <summary>
/// One process address space (<c>struct mm_struct</c> + <c>iommu_mm_data</c>): its PASID once the first bind gave it
/// one, its SVA domains (most recent first: <c>list_add</c> at the head), and whether the process has exited (the
/// struct lives on while an SVA domain holds it: the PASID is dropped with it, <c>mm_pasid_drop</c> at mmdrop).
/// </summary>
public sealed record MmState(int Id, ulong? Pasid, bool Exited, ImmutableList<int> Domains)
{
    /// <summary>What its CPU page table maps (<c>mm_map</c>, 4 KiB leaves); empty once the process exited (exit_mmap).</summary>
    public DomainMappings Mappings { get; init; } = DomainMappings.Empty;

    public bool Equals(MmState? other) =>
        other is not null && Id == other.Id && Pasid == other.Pasid && Exited == other.Exited && Domains.SequenceEqual(other.Domains)
        && Mappings.Equals(other.Mappings);

    public override int GetHashCode() => HashCode.Combine(Id, Pasid, Exited, Domains.Count);
}

/// <summary>
/// What one device's hardware has at one PASID (its CD at that SSID, its PASID-table entry): a trace's paging domain
/// (<see cref="Handle"/> with its allocation <see cref="Seq"/>) or an SVA domain (<see cref="Sva"/> ≥ 0). The group's
/// array says what the core stored; this says what each member's driver was told (a hot-added member was told nothing,
/// a refused rollback left a member blocked).
/// </summary>
public sealed record PasidHw(string? Handle, long Seq, int Sva);

/// <summary>An SVA domain: its mm, its driver (<c>domain->owner</c>) and instance, and <c>users</c> (the bonds on it).</summary>
public sealed record SvaDomainState(int Id, int Mm, string Driver, string Iommu, int Users);

/// <summary>
/// <c>struct iommu_sva</c>: one bond per (group, PASID), shared by every bind of that mm through the group; <see cref="Users"/>
/// is its refcount (the live names of the trace that refer to it).
/// </summary>
public sealed record BondState(int Id, string Group, ulong Pasid, int Domain, string Dev, int Users);

/// <summary>
/// The PASID and SVA part of the model's state (kernel-semantics a.7): the PASID arrays of the groups, the mms by
/// their trace names, the SVA domains and bonds, the trace's bond references, the global PASID IDA, and the mock
/// devices whose PASID-1024 fault injector is armed. Equality is structural.
/// </summary>
public sealed record PasidState(
    ImmutableSortedDictionary<string, ImmutableSortedDictionary<ulong, PasidEntry>> Arrays,
    ImmutableSortedDictionary<string, int> MmNames,
    ImmutableSortedDictionary<int, MmState> Mms,
    ImmutableSortedDictionary<int, SvaDomainState> Domains,
    ImmutableSortedDictionary<int, BondState> Bonds,
    ImmutableSortedDictionary<string, int> Handles,
    ImmutableSortedSet<ulong> UsedPasids,
    ImmutableSortedSet<string> Armed,
    int NextId)
{
    /// <summary>Per device, per PASID: what its driver's <c>set_dev_pasid</c> last set (the blocked domain removes the entry).</summary>
    public ImmutableSortedDictionary<string, ImmutableSortedDictionary<ulong, PasidHw>> DevHw { get; init; } =
        ImmutableSortedDictionary<string, ImmutableSortedDictionary<ulong, PasidHw>>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>
    /// Per device, the leaves of its driver's PASID table that a <c>set_dev_pasid</c> allocated and the driver keeps until
    /// the device is released (<see cref="Contract.DriverCapabilities.PasidLeafSite"/>: smmuv3's CD table, leaf 0 the
    /// table itself when no attach made it; a scalable VT-d unit's PASID tables past the first).
    /// </summary>
    public ImmutableSortedDictionary<string, ImmutableSortedSet<ulong>> TableLeaves { get; init; } =
        ImmutableSortedDictionary<string, ImmutableSortedSet<ulong>>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>The state with the device's PASID-table leaves replaced (empty: the device has none, it was released).</summary>
    public PasidState WithTableLeaves(string dev, ImmutableSortedSet<ulong> leaves) =>
        this with { TableLeaves = leaves.IsEmpty ? TableLeaves.Remove(dev) : TableLeaves.SetItem(dev, leaves) };

    /// <summary>The state with the device's entry at <paramref name="pasid"/> set (null: removed, the blocked domain).</summary>
    public PasidState WithDevHw(string dev, ulong pasid, PasidHw? hw)
    {
        var of = DevHw.GetValueOrDefault(dev) ?? ImmutableSortedDictionary<ulong, PasidHw>.Empty;
        of = hw is null ? of.Remove(pasid) : of.SetItem(pasid, hw);
        return this with { DevHw = of.IsEmpty ? DevHw.Remove(dev) : DevHw.SetItem(dev, of) };
    }

    public static readonly ImmutableSortedDictionary<ulong, PasidEntry> NoEntries = ImmutableSortedDictionary<ulong, PasidEntry>.Empty;

    public static readonly PasidState Empty = new(
        ImmutableSortedDictionary<string, ImmutableSortedDictionary<ulong, PasidEntry>>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableSortedDictionary<string, int>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableSortedDictionary<int, MmState>.Empty,
        ImmutableSortedDictionary<int, SvaDomainState>.Empty,
        ImmutableSortedDictionary<int, BondState>.Empty,
        ImmutableSortedDictionary<string, int>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableSortedSet<ulong>.Empty,
        ImmutableSortedSet<string>.Empty.WithComparer(StringComparer.Ordinal),
        1);

    /// <summary>The PASID array of a group (empty when it has none).</summary>
    public ImmutableSortedDictionary<ulong, PasidEntry> ArrayOf(string group) => Arrays.GetValueOrDefault(group) ?? NoEntries;

    /// <summary>The state with a group's PASID array replaced (an empty array is dropped).</summary>
    public PasidState WithArray(string group, ImmutableSortedDictionary<ulong, PasidEntry> array) =>
        this with { Arrays = array.IsEmpty ? Arrays.Remove(group) : Arrays.SetItem(group, array) };

    public bool Equals(PasidState? other) =>
        other is not null && NextId == other.NextId && Same(Arrays, other.Arrays, (a, b) => a.Count == b.Count && a.All(e => b.TryGetValue(e.Key, out var o) && e.Value == o))
        && Same(MmNames, other.MmNames, (a, b) => a == b) && Same(Mms, other.Mms, (a, b) => a == b)
        && Same(Domains, other.Domains, (a, b) => a == b) && Same(Bonds, other.Bonds, (a, b) => a == b)
        && Same(Handles, other.Handles, (a, b) => a == b) && UsedPasids.SetEquals(other.UsedPasids) && Armed.SetEquals(other.Armed)
        && Same(DevHw, other.DevHw, (a, b) => a.Count == b.Count && a.All(e => b.TryGetValue(e.Key, out var o) && e.Value == o))
        && Same(TableLeaves, other.TableLeaves, (a, b) => a.SetEquals(b));

    private static bool Same<TKey, TValue>(ImmutableSortedDictionary<TKey, TValue> a, ImmutableSortedDictionary<TKey, TValue> b, Func<TValue, TValue, bool> same)
        where TKey : notnull =>
        ReferenceEquals(a, b) || (a.Count == b.Count && a.All(e => b.TryGetValue(e.Key, out var o) && same(e.Value, o)));

    public override int GetHashCode() => HashCode.Combine(NextId, Arrays.Count, Mms.Count, Bonds.Count, Handles.Count, UsedPasids.Count);
}
