namespace IommuConformance.Implementations.Core;

/// <summary>
/// iommu_domain::type, with the 6.8 numbering of the __IOMMU_DOMAIN_* bits. Zero is IOMMU_DOMAIN_BLOCKED and,
/// exactly as in the kernel, also "no preference" in the default-domain type resolution.
/// </summary>
[Flags]
public enum DomainType
{
    Blocked = 0,

    PagingBit = 1 << 0,   // __IOMMU_DOMAIN_PAGING: supports map/unmap
    DmaApiBit = 1 << 1,   // __IOMMU_DOMAIN_DMA_API: the DMA API uses it
    PtBit = 1 << 2,       // __IOMMU_DOMAIN_PT: identity mapped
    DmaFqBit = 1 << 3,    // __IOMMU_DOMAIN_DMA_FQ: flush-queue (lazy) invalidation
    SvaBit = 1 << 4,
    PlatformBit = 1 << 5,
    NestedBit = 1 << 6,

    Identity = PtBit,
    Unmanaged = PagingBit,
    Dma = PagingBit | DmaApiBit,
    DmaFq = PagingBit | DmaApiBit | DmaFqBit,
    Sva = SvaBit,
}

public static class DomainTypes
{
    /// <summary>"No preference" in iommu_get_default_domain_type(): the same zero as BLOCKED.</summary>
    public const DomainType NoPreference = 0;

    /// <summary>iommu_is_dma_domain().</summary>
    public static bool IsDma(this DomainType type) => (type & DomainType.DmaApiBit) != 0;

    public static bool IsPaging(this DomainType type) => (type & DomainType.PagingBit) != 0;

    /// <summary>The spelling of /sys/kernel/iommu_groups/N/type (iommu_domain_type_str()).</summary>
    public static string SysfsName(this DomainType type) => type switch
    {
        DomainType.Blocked => Contract.GroupTypeStrings.Blocked,
        DomainType.Identity => Contract.GroupTypeStrings.Identity,
        DomainType.Unmanaged => Contract.GroupTypeStrings.Unmanaged,
        DomainType.Dma => Contract.GroupTypeStrings.Dma,
        DomainType.DmaFq => Contract.GroupTypeStrings.DmaFq,
        _ => Contract.GroupTypeStrings.Unknown,
    };
}
