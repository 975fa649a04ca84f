namespace IommuConformance.Contract;

/// <summary>The global default domain type (iommu_def_domain_type): passthrough, strict or lazy.</summary>
public enum DefaultDomainType
{
    Identity,
    Dma,
    DmaFq,
}

/// <summary>
/// The kernel era whose IOMMU core the model follows. The contract is 7.0-era (spec README §1); an older era that
/// behaved differently is an explicit opt-in, never a default (docs/real-kernel.md "Era").
/// </summary>
public enum KernelEra
{
    /// <summary>The contract's era: 7.0 (and 7.2, measured).</summary>
    V7_0,

    /// <summary>
    /// Linux 6.1: <c>iommu_group_store_type</c> refuses a group of more than one device (EINVAL) and a bound device
    /// (EBUSY) before anything else, and answers EBUSY for a group not on its default domain.
    /// </summary>
    V6_1,
}

/// <summary>Names of the eras as traces and the Runner spell them.</summary>
public static class KernelEras
{
    public const string V7_0 = "7.0";
    public const string V6_1 = "6.1";

    public static readonly IReadOnlyList<string> Names = [V7_0, V6_1];

    public static string Name(KernelEra era) => era switch
    {
        KernelEra.V6_1 => V6_1,
        _ => V7_0,
    };

    public static bool TryParse(string? text, out KernelEra era)
    {
        switch (text)
        {
            case V7_0:
                era = KernelEra.V7_0;
                return true;
            case V6_1:
                era = KernelEra.V6_1;
                return true;
            default:
                era = KernelEra.V7_0;
                return false;
        }
    }

    /// <summary>The era of a kernel release string (<c>uname -r</c>): 6.1.x → 6.1, 7.x → 7.0; null for any other.</summary>
    public static KernelEra? OfRelease(string release) =>
        release.StartsWith("6.1.", StringComparison.Ordinal) ? KernelEra.V6_1
        : release.StartsWith("7.", StringComparison.Ordinal) ? KernelEra.V7_0
        : null;
}

/// <summary>
/// Trace <c>config</c>: the knobs that are global to one emulated machine. <see cref="Era"/> is the kernel era the
/// model follows (default the contract's, 7.0).
/// </summary>
public sealed record SystemConfig(int Cpus = 2, DefaultDomainType DefaultDomain = DefaultDomainType.DmaFq, KernelEra Era = KernelEra.V7_0)
{
    public static readonly SystemConfig Default = new();
}
