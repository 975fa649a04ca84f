using System.Collections.Immutable;

namespace IommuConformance.Model.State;

/// <summary>
/// One live <c>struct iommu_group</c>: its members in probe order, the type of its default domain, the domain
/// it is attached to (<c>group->domain</c>, null before the first attach), and its DMA ownership
/// (<c>owner</c>, null for the NULL owner, and <c>owner_cnt</c>). A group with no members does not exist.
/// <see cref="Lagging"/> holds the members whose hardware is not on <see cref="Current"/> (<see cref="HardwareDomain"/>);
/// every other member's hardware is on <see cref="Current"/>, or on nothing while that is null.
/// </summary>
public sealed record GroupState(
    string Id,
    string Iommu,
    ImmutableList<string> Members,
    DefaultKind? Default,
    DomainRef? Current,
    string? Owner,
    int OwnerCount)
{
    /// <summary>A group that has just been created by <c>ops->device_group</c>: no members, no domains.</summary>
    public static GroupState Create(string id, string iommu) => new(id, iommu, [], null, null, null, 0);

    /// <summary>Members whose hardware is not on the group's current domain, with what it is on.</summary>
    public ImmutableSortedDictionary<string, HardwareDomain> Lagging { get; init; } = NoLag;

    /// <summary>
    /// Members whose driver has taken, since their probe, the first attach that allocates what it keeps: a paging one for
    /// smmuv3's CD table (<see cref="Contract.DriverCapabilities.FirstPagingAttachSites"/>), any that is not BLOCKED-typed
    /// for a scalable VT-d device's first PASID table (<see cref="Contract.DriverCapabilities.FirstEntrySites"/>).
    /// </summary>
    public ImmutableSortedSet<string> PagingAttached { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    public static readonly ImmutableSortedDictionary<string, HardwareDomain> NoLag =
        ImmutableSortedDictionary<string, HardwareDomain>.Empty.WithComparers(StringComparer.Ordinal);

    public bool Equals(GroupState? other) =>
        other is not null && Id == other.Id && Iommu == other.Iommu && Members.SequenceEqual(other.Members)
        && Default == other.Default && Current == other.Current && Owner == other.Owner && OwnerCount == other.OwnerCount
        && Lagging.Count == other.Lagging.Count && Lagging.All(l => other.Lagging.TryGetValue(l.Key, out var o) && l.Value == o)
        && PagingAttached.SetEquals(other.PagingAttached);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Id);
        hash.Add(Iommu);
        foreach (var member in Members) hash.Add(member);
        hash.Add(Default);
        hash.Add(Current);
        hash.Add(Owner);
        hash.Add(OwnerCount);
        foreach (var dev in PagingAttached) hash.Add(dev);
        foreach (var (dev, hw) in Lagging)
        {
            hash.Add(dev);
            hash.Add(hw);
        }
        return hash.ToHashCode();
    }
}
