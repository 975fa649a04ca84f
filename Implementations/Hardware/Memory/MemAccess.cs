namespace IommuConformance.Implementations.Hardware.Memory;

/// <summary>How one load or store of emulated physical memory ended.</summary>
public enum MemAccess
{
    Ok,
    /// <summary>No frame backs the address: the bus answers with an external abort (SMMU F_WALK_EABT, VT-d table-read fault).</summary>
    ExternalAbort,
    /// <summary>The address is not naturally aligned for the access width.</summary>
    Unaligned,
}
