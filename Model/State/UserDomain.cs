using System.Collections.Immutable;

namespace IommuConformance.Model.State;

/// <summary>
/// A live UNMANAGED paging domain held by the handle table under <see cref="Handle"/>.
/// <see cref="Driver"/> is its <c>domain->owner</c>; <see cref="Iommu"/> the instance of the device it was
/// allocated for (an smmuv3 domain is finalised on that SMMU); <see cref="Seq"/> orders allocations;
/// <see cref="Mappings"/> what the IOMMU API mapped in it.
/// </summary>
public sealed record UserDomain(string Handle, string Driver, string Iommu, string Device, bool DirtyTracking, long Seq)
{
    public DomainMappings Mappings { get; init; } = DomainMappings.Empty;

    /// <summary>
    /// What the mappings may be, when the contract let the model not tell (io-pgtable-arm keeps the tables a map made
    /// before an injected table-page failure, and which allocation failed is not visible): empty, or every candidate
    /// with <see cref="Mappings"/> first. The next outcomes narrow them (<c>ModelState.JudgeAlternatives</c>).
    /// </summary>
    public ImmutableArray<DomainMappings> Alternatives { get; init; } = [];

    public bool Equals(UserDomain? o) =>
        o is not null && Handle == o.Handle && Driver == o.Driver && Iommu == o.Iommu && Device == o.Device
        && DirtyTracking == o.DirtyTracking && Seq == o.Seq && Mappings.Equals(o.Mappings)
        && (Alternatives.IsDefaultOrEmpty ? o.Alternatives.IsDefaultOrEmpty : !o.Alternatives.IsDefault && Alternatives.SequenceEqual(o.Alternatives));

    public override int GetHashCode() => HashCode.Combine(Handle, Seq, Mappings, Alternatives.IsDefaultOrEmpty ? 0 : Alternatives.Length);
}
