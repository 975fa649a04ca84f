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
}
