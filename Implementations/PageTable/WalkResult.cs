using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations.PageTable;

/// <summary>How a hardware walk ended. Each emulated IOMMU names these in its own words (F_TRANSLATION, ...).</summary>
public enum WalkStatus
{
    Ok,
    /// <summary>An invalid or reserved descriptor, or an input address outside the table's range.</summary>
    TranslationFault,
    /// <summary>The leaf does not grant the access.</summary>
    PermissionFault,
    /// <summary>Arm: a leaf with AF = 0.</summary>
    AccessFault,
    /// <summary>Arm: an output or table address past the OAS.</summary>
    AddressSizeFault,
    /// <summary>A descriptor fetch hit unbacked memory (SMMU F_WALK_EABT); <see cref="WalkResult.FaultAddress"/> is the descriptor's address.</summary>
    ExternalAbort,
}

/// <summary>
/// The outcome of a walk for one IOVA: the output address and rights of the leaf reached with its base and
/// size (what an IOTLB caches), or a fault with the level it occurred at.
/// </summary>
public readonly record struct WalkResult(WalkStatus Status, int Level, ulong Phys, ulong LeafIova, ulong LeafSize, ulong LeafPhys, IommuPerm Perm, ulong FaultAddress)
{
    public bool IsOk => Status == WalkStatus.Ok;

    public static WalkResult Fault(WalkStatus status, int level, ulong faultAddress = 0) =>
        new(status, level, 0, 0, 0, 0, IommuPerm.None, faultAddress);

    public static WalkResult Hit(int level, ulong iova, ulong leafBase, ulong leafSize, ulong outBase, IommuPerm perm) =>
        new(WalkStatus.Ok, level, outBase + (iova - leafBase), leafBase, leafSize, outBase, perm, 0);

    /// <summary>This result with a permission check for <paramref name="access"/> applied.</summary>
    public WalkResult Check(IommuPerm access) =>
        IsOk && (Perm & access) != access ? this with { Status = WalkStatus.PermissionFault } : this;

    /// <summary>The IOTLB entry this walk would fill.</summary>
    public IotlbEntry ToIotlbEntry(int tag) => new(tag, LeafIova, LeafSize, LeafPhys, Perm);
}
