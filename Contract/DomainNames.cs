namespace IommuConformance.Contract;

/// <summary>The fixed answers of <c>get_domain</c> and <c>group_type_read</c> (spec §4).</summary>
public static class DomainNames
{
    public const string Default = "default";
    public const string Blocking = "blocking";
    public const string Identity = "identity";
    public const string None = "none";
}

/// <summary>Sysfs strings of /sys/kernel/iommu_groups/N/type.</summary>
public static class GroupTypeStrings
{
    public const string Blocked = "blocked";
    public const string Identity = "identity";
    public const string Unmanaged = "unmanaged";
    public const string Dma = "DMA";
    public const string DmaFq = "DMA-FQ";
    public const string Unknown = "unknown";
    public const string Auto = "auto";
}

/// <summary>Flags of <c>domain_alloc_paging</c> (iommufd HWPT allocation flags).</summary>
public static class AllocFlags
{
    /// <summary>IOMMU_HWPT_ALLOC_DIRTY_TRACKING.</summary>
    public const string DirtyTracking = "dirty_tracking";
}
