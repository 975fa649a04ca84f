using System.Collections.Frozen;
using IommuConformance.Contract;

namespace IommuConformance.Harness.Iommu.Traces;

/// <summary>The spellings of enumerated values in trace files (spec §5), in both directions.</summary>
public static class TraceNames
{
    /// <summary>The format names this build can read; older names are refused with a message listing these.</summary>
    public static readonly IReadOnlyList<string> SupportedFormats = [Trace.Format];

    private static readonly FrozenDictionary<string, DefaultDomainType> DefaultDomains =
        new Dictionary<string, DefaultDomainType>
        {
            ["identity"] = DefaultDomainType.Identity,
            ["DMA"] = DefaultDomainType.Dma,
            ["DMA-FQ"] = DefaultDomainType.DmaFq,
        }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, Errno> Errnos =
        Enum.GetValues<Errno>().ToFrozenDictionary(e => e.ToString());

    /// <summary>The values of a device's <c>defDomainType</c> besides null.</summary>
    public static readonly IReadOnlyList<string> DeviceDefDomainTypes = ["identity", "DMA"];

    public static IReadOnlyCollection<string> DefaultDomainNames => DefaultDomains.Keys;

    public static bool TryParseDefaultDomain(string text, out DefaultDomainType type) =>
        DefaultDomains.TryGetValue(text, out type);

    public static string Name(DefaultDomainType type) => type switch
    {
        DefaultDomainType.Identity => "identity",
        DefaultDomainType.Dma => "DMA",
        DefaultDomainType.DmaFq => "DMA-FQ",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Errno names exactly as the enum spells them; numbers are refused (Enum.TryParse would take "3").</summary>
    public static bool TryParseErrno(string text, out Errno errno) => Errnos.TryGetValue(text, out errno);

    public static IEnumerable<string> ErrnoNames => Enum.GetNames<Errno>();
}
