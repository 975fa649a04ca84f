namespace IommuConformance.Implementations.Hardware;

/// <summary>
/// The fault vocabulary a DMA answers with, shared by every emulated IOMMU (docs/hardware.md maps each hardware's
/// native codes onto it). Names are the trace spelling (<see cref="DmaFaults.Name"/>).
/// </summary>
public enum DmaFault
{
    /// <summary>No valid leaf for the IOVA, or an IOVA outside the table's range (F_TRANSLATION, VT-d 06h, virtio MAPPING).</summary>
    Translation,
    /// <summary>The leaf does not grant the access (F_PERMISSION, VT-d 05h/06h write/read, virtio MAPPING with a flag).</summary>
    Permission,
    /// <summary>Arm: a leaf with AF = 0 (F_ACCESS).</summary>
    Access,
    /// <summary>An output or table address past the OAS, or an IOVA past the MGAW (F_ADDR_SIZE, VT-d 04h).</summary>
    AddressSize,
    /// <summary>A table or descriptor fetch hit unbacked memory (F_WALK_EABT, F_STE_FETCH, F_CD_FETCH, VT-d 07h).</summary>
    ExternalAbort,
    /// <summary>SMMUv3: an invalid STE or CD, or a stream id past the table (C_BAD_STE, C_BAD_CD, C_BAD_STREAMID).</summary>
    BadSte,
    /// <summary>VT-d root/context entry not present (01h/02h), virtio endpoint unknown (UNKNOWN), mock record invalid.</summary>
    ContextEntry,
    /// <summary>The device's context says abort: a blocking domain (STE CONFIG abort, virtio endpoint detached).</summary>
    Blocked,
}

public static class DmaFaults
{
    public static string Name(DmaFault fault) => fault switch
    {
        DmaFault.Translation => "translation",
        DmaFault.Permission => "permission",
        DmaFault.Access => "access",
        DmaFault.AddressSize => "address_size",
        DmaFault.ExternalAbort => "external_abort",
        DmaFault.BadSte => "bad_ste",
        DmaFault.ContextEntry => "context_entry",
        DmaFault.Blocked => "blocked",
        _ => throw new ArgumentOutOfRangeException(nameof(fault)),
    };

    public static readonly IReadOnlyList<DmaFault> All = Enum.GetValues<DmaFault>();
}

/// <summary>
/// One translation of a DMA as the hardware answered it: the physical address of the first byte, or a fault.
/// <see cref="LeafLast"/> is the last IOVA the same translation covers (how far a longer access may go on it).
/// </summary>
public readonly record struct DmaTranslation(DmaFault? Fault, ulong Phys, ulong LeafLast)
{
    public bool IsOk => Fault is null;

    public static DmaTranslation Faulted(DmaFault fault) => new(fault, 0, 0);

    public static DmaTranslation Ok(ulong phys, ulong leafLast) => new(null, phys, leafLast);

    public override string ToString() => Fault is { } f ? DmaFaults.Name(f) : $"0x{Phys:x}";
}

/// <summary>Where a possible translation came from: a fresh read of the structures, or a live cache entry.</summary>
public enum TranslationSource { FreshWalk, CachedConfig, Iotlb, WalkCache }

/// <summary>One translation the hardware could produce now, with its source (for the isolation check).</summary>
public readonly record struct PossibleTranslation(TranslationSource Source, DmaTranslation Translation);
