using IommuConformance.Contract.Vocabulary;

namespace IommuConformance.Contract;

/// <summary>
/// The canonical spelling of non-text values in <see cref="Outcome.Value"/>, shared by model and implementation so
/// that outcomes compare as strings: numbers as <c>0x</c> lower-case hex (<c>0x0</c>, <c>0x2000</c>), tagged values as
/// <c>field=value</c> (<c>phys=0x1000</c>, <c>fault=translation</c>). The trace format writes them as JSON numbers and
/// objects (docs/trace-format.md) and reads them back to exactly these strings.
/// </summary>
public static class OutcomeValues
{
    public static string Number(ulong value) => ValueText.Number(value);

    public static string Field(string field, ulong value) => ValueText.Field(field, value);

    public static string Field(string field, string text) => ValueText.Field(field, text);

    public static bool TryNumber(string? text, out ulong value) => ValueText.TryNumber(text, out value);

    public static bool TryField(string? text, out string field, out string value) => ValueText.TryField(text, out field, out value);
}

/// <summary>
/// <c>device_dma</c>'s value (spec §4): <c>{ "phys": A }</c> with OK, <c>{ "fault": REASON }</c> with EIO. The reasons
/// are this contract's small vocabulary; each emulated IOMMU maps its own fault records onto them.
/// </summary>
public static class DmaValues
{
    public const string PhysField = "phys";
    public const string FaultField = "fault";

    public static string Phys(ulong address) => OutcomeValues.Field(PhysField, address);

    public static string Fault(string reason) => OutcomeValues.Field(FaultField, reason);
}

/// <summary>The fault reasons of <c>device_dma</c> (docs/operations.md, "Memory operations").</summary>
public static class DmaFaults
{
    /// <summary>The device's domain is a paging domain that maps no page at some byte of the access (or the address is past its input range).</summary>
    public const string Translation = "translation";

    /// <summary>Every byte is mapped, but some mapping lacks the right the access needs (write, or read).</summary>
    public const string Permission = "permission";

    /// <summary>The device's group is attached to a blocking domain: the hardware aborts every access.</summary>
    public const string Blocked = "blocked";

    /// <summary>The device has no domain at all (not probed, released, a group never attached, a PASID nothing is attached to).</summary>
    public const string NoDomain = "no_domain";

    public static readonly IReadOnlyList<string> All = [Translation, Permission, Blocked, NoDomain];
}
