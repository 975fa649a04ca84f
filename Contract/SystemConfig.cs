namespace IommuConformance.Contract;

/// <summary>The global default domain type (iommu_def_domain_type): passthrough, strict or lazy.</summary>
public enum DefaultDomainType
{
    Identity,
    Dma,
    DmaFq,
}

/// <summary>Trace <c>config</c>: the knobs that are global to one emulated machine.</summary>
public sealed record SystemConfig(int Cpus = 2, DefaultDomainType DefaultDomain = DefaultDomainType.DmaFq)
{
    public static readonly SystemConfig Default = new();
}
