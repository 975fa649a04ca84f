using System.Collections.Immutable;

namespace IommuConformance.Model.State;

/// <summary>
/// One live <c>struct iommu_group</c>: its members in probe order, the type of its default domain, the domain
/// it is attached to (<c>group->domain</c>, null before the first attach), and its DMA ownership
/// (<c>owner</c>, null for the NULL owner, and <c>owner_cnt</c>). A group with no members does not exist.
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

    public bool Equals(GroupState? other) =>
        other is not null && Id == other.Id && Iommu == other.Iommu && Members.SequenceEqual(other.Members)
        && Default == other.Default && Current == other.Current && Owner == other.Owner && OwnerCount == other.OwnerCount;

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
        return hash.ToHashCode();
    }
}
