using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Hardware.Vtd;

/// <summary>
/// The unit's first-level (first-stage) walk: an x86-64 4-level (FLPM 0) or 5-level (FLPM 1) table, as the CPU's
/// MMU reads it, so a first-level PASID entry can point at a process's page table (SVA). 9 bits a level, 4 KiB
/// leaves, PS at the 1 GiB and 2 MiB levels. A DMA without a privileged PASID is a user access: every level must
/// have P and U/S; a write needs R/W at every level (no supervisor override). The input must be canonical and, this
/// emulation having no upper half, below 2^47 (4-level) or 2^56 (5-level).
/// </summary>
public static class VtdFirstLevelWalk
{
    public static WalkResult Walk(PhysicalMemory memory, ulong root, int flpm, ulong va)
    {
        var levels = flpm == 1 ? 5 : 4;
        if (flpm > 1 || va >> (12 + 9 * levels - 1) != 0) return WalkResult.Fault(WalkStatus.TranslationFault, levels - 1);
        var table = root & X86Pte.AddrMask;
        var perm = IommuPerm.Read | IommuPerm.Write;
        for (var level = levels - 1; level >= 0; level--)
        {
            var shift = 12 + 9 * level;
            var at = table + ((va >> shift) & 511) * 8;
            if (memory.Load64(at, out var pte) != MemAccess.Ok) return WalkResult.Fault(WalkStatus.ExternalAbort, level, at);
            if ((pte & X86Pte.P) == 0 || (pte & X86Pte.Us) == 0) return WalkResult.Fault(WalkStatus.TranslationFault, level);
            if ((pte & X86Pte.Rw) == 0) perm &= ~IommuPerm.Write;
            var leaf = level == 0 || ((level is 1 or 2) && (pte & X86Pte.Ps) != 0);
            if (!leaf)
            {
                table = pte & X86Pte.AddrMask;
                continue;
            }
            var size = 1UL << shift;
            var outBase = pte & X86Pte.AddrMask & ~(size - 1);
            return WalkResult.Hit(level, va, va & ~(size - 1), size, outBase, perm);
        }
        return WalkResult.Fault(WalkStatus.TranslationFault, 0);
    }
}
