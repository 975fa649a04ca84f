using IommuConformance.Contract;

namespace IommuConformance.Model.State;

/// <summary>The type of a group's default domain (<c>group->default_domain->type</c>).</summary>
public enum DefaultKind
{
    /// <summary>IOMMU_DOMAIN_BLOCKED: only the mock driver's static default domain.</summary>
    Blocked,

    /// <summary>IOMMU_DOMAIN_IDENTITY.</summary>
    Identity,

    /// <summary>IOMMU_DOMAIN_DMA (strict).</summary>
    Dma,

    /// <summary>IOMMU_DOMAIN_DMA_FQ (lazy, flush queue).</summary>
    DmaFq,
}

/// <summary>Conversions between <see cref="DefaultKind"/> and the contract's names.</summary>
public static class DefaultKinds
{
    /// <summary>The global <c>iommu_def_domain_type</c> as a domain type.</summary>
    public static DefaultKind From(DefaultDomainType global) => global switch
    {
        DefaultDomainType.Identity => DefaultKind.Identity,
        DefaultDomainType.Dma => DefaultKind.Dma,
        _ => DefaultKind.DmaFq,
    };

    /// <summary>What sysfs <c>type</c> shows for a default domain of this type; <c>unknown</c> for none.</summary>
    public static string SysfsName(DefaultKind? kind) => kind switch
    {
        DefaultKind.Blocked => GroupTypeStrings.Blocked,
        DefaultKind.Identity => GroupTypeStrings.Identity,
        DefaultKind.Dma => GroupTypeStrings.Dma,
        DefaultKind.DmaFq => GroupTypeStrings.DmaFq,
        _ => GroupTypeStrings.Unknown,
    };

    /// <summary>
    /// Parses a sysfs <c>type</c> write: <c>identity</c>, <c>DMA</c>, <c>DMA-FQ</c>, or <c>auto</c> (target 0,
    /// returned as <c>Target = null</c>), compared as <c>sysfs_streq</c> does. False for any other string.
    /// </summary>
    public static bool TryParseSysfs(string text, out DefaultKind? target)
    {
        var word = SysfsWord(text);
        target = word switch
        {
            GroupTypeStrings.Identity => DefaultKind.Identity,
            GroupTypeStrings.Dma => DefaultKind.Dma,
            GroupTypeStrings.DmaFq => DefaultKind.DmaFq,
            _ => null,
        };
        return target is not null || word == GroupTypeStrings.Auto;
    }

    /// <summary>
    /// What <c>sysfs_streq</c> compares of a written buffer: the C string (up to a NUL) without one trailing
    /// newline (<c>echo DMA &gt; type</c> writes "DMA\n"). Two newlines or any other extra character stay.
    /// </summary>
    public static string SysfsWord(string text)
    {
        var nul = text.IndexOf('\0');
        if (nul >= 0) text = text[..nul];
        return text.EndsWith('\n') ? text[..^1] : text;
    }
}
