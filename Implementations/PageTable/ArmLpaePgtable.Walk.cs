using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Memory;
using static IommuConformance.Implementations.PageTable.ArmLpaePte;

namespace IommuConformance.Implementations.PageTable;

public sealed partial class ArmLpaePgtable
{
    /// <summary>
    /// The SMMU's walk (smmu_ptw_64_s1 / _s2 in QEMU): reads descriptors from memory only. An IOVA past the IAS is
    /// a translation fault at the start level; an invalid or reserved descriptor a translation fault at its level;
    /// an unbacked table an external abort; an output past the OAS an address-size fault; AF = 0 an access fault.
    /// Stage 1 grants read always and write unless AP[2]; stage 2 grants S2AP. Privilege is not modelled.
    /// </summary>
    public WalkResult Walk(ulong iova, IommuPerm access = IommuPerm.None) => Walk(iova, access, _startLevel, _pgd, null);

    /// <summary>
    /// The walk resumed at level <paramref name="level"/> from the table at <paramref name="table"/> (what a walk cache
    /// entry holds), reporting each table descriptor it follows to <paramref name="tables"/> as (level of the descriptor,
    /// base of the region it covers, next table).
    /// </summary>
    public WalkResult Walk(ulong iova, IommuPerm access, int level, ulong table, List<(int Level, ulong Base, ulong Table)>? tables)
    {
        if (!InIas(iova)) return WalkResult.Fault(WalkStatus.TranslationFault, _startLevel);
        var mem = _pages.Memory;
        for (var lvl = level; lvl < MaxLevels; lvl++)
        {
            var addr = table + (ulong)LvlIdx(iova, lvl) * 8;
            if (mem.Load64(addr, out var pte) != MemAccess.Ok) return WalkResult.Fault(WalkStatus.ExternalAbort, lvl, addr);
            if ((pte & Valid) == 0) return WalkResult.Fault(WalkStatus.TranslationFault, lvl);
            if (IsTable(pte, lvl))
            {
                var next = TableAddr(pte);
                if (_cfg.Oas < 64 && next >> _cfg.Oas != 0) return WalkResult.Fault(WalkStatus.AddressSizeFault, lvl);
                tables?.Add((lvl, iova & ~(BlockSize(lvl) - 1), next));
                table = next;
                continue;
            }
            var size = BlockSize(lvl);
            // A block at a level this granule has no block size for is reserved: a translation fault.
            if (!IsLeaf(pte, lvl) || (size & PgsizeBitmap) == 0) return WalkResult.Fault(WalkStatus.TranslationFault, lvl);
            var outBase = pte & AddrMask & ~(size - 1);
            if (_cfg.Oas < 64 && outBase >> _cfg.Oas != 0) return WalkResult.Fault(WalkStatus.AddressSizeFault, lvl);
            if ((pte & Af) == 0) return WalkResult.Fault(WalkStatus.AccessFault, lvl);
            var perm = _cfg.Stage == ArmLpaeStage.Stage1
                ? IommuPerm.Read | ((pte & ApRdonly) == 0 ? IommuPerm.Write : IommuPerm.None)
                : ((pte & HapRead) != 0 ? IommuPerm.Read : IommuPerm.None) | ((pte & HapWrite) != 0 ? IommuPerm.Write : IommuPerm.None);
            return WalkResult.Hit(lvl, iova, iova & ~(size - 1), size, outBase, perm).Check(access);
        }
        return WalkResult.Fault(WalkStatus.TranslationFault, MaxLevels - 1);
    }

    /// <summary>The span of IOVA one descriptor at <paramref name="level"/> covers.</summary>
    public ulong SpanAt(int level) => BlockSize(level);

    /// <summary>The table pages a walk from the pgd reaches (memory only; <see cref="IIoPgtableOps.ReachableTablePages"/>).</summary>
    public IReadOnlyList<ulong> ReachableTablePages() => _freed && !_isView ? []
        : new TableReach(_pages.Memory, (pte, lvl) => (pte & Valid) != 0 && IsTable(pte, lvl), TableAddr, lvl => TableBytes(lvl) / 8,
            MaxLevels - 1, +1).From(_pgd, _startLevel);
}
