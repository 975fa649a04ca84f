namespace IommuConformance.Implementations.Iova;

/// <summary>
/// struct iova: one allocated or reserved range [PfnLo, PfnHi] in granule units, inclusive. The tree orders nodes by
/// PfnLo; reserve_iova may lower a node's PfnLo in place (never past its predecessor, so the order holds).
/// </summary>
public sealed class Iova(ulong pfnLo, ulong pfnHi)
{
    public ulong PfnLo { get; internal set; } = pfnLo;

    public ulong PfnHi { get; internal set; } = pfnHi;

    /// <summary>The number of granules the node covers.</summary>
    public ulong Size => PfnHi - PfnLo + 1;

    public override string ToString() => $"[0x{PfnLo:x}, 0x{PfnHi:x}]";
}

/// <summary>The rbtree's order: by pfn_lo (iova_insert_rbtree).</summary>
internal sealed class IovaPfnLoComparer : IComparer<Iova>
{
    public static readonly IovaPfnLoComparer Instance = new();

    public int Compare(Iova? x, Iova? y) => x!.PfnLo.CompareTo(y!.PfnLo);
}
