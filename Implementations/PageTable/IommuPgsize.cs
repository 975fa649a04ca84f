using System.Numerics;

namespace IommuConformance.Implementations.PageTable;

/// <summary>The best-page-size rule of the IOMMU core.</summary>
public static class IommuPgsize
{
    // iommu_pgsize: the largest supported size that fits in size and that iova|paddr is aligned to; count stops
    // at the next larger size's boundary when the rest could use that larger size.
    public static ulong Compute(ulong pgsizeBitmap, ulong iova, ulong paddr, ulong size, out ulong count)
    {
        count = 0;
        if (size == 0 || pgsizeBitmap == 0) return 0;
        var addrMerge = iova | paddr;
        var pgsizes = pgsizeBitmap & MaskUpTo(63 - BitOperations.LeadingZeroCount(size));
        if (addrMerge != 0) pgsizes &= MaskUpTo(BitOperations.TrailingZeroCount(addrMerge));
        if (pgsizes == 0) return 0;
        var idx = 63 - BitOperations.LeadingZeroCount(pgsizes);
        var pgsize = 1UL << idx;

        var bigger = idx == 63 ? 0 : pgsizeBitmap & ~MaskUpTo(idx);
        if (bigger != 0)
        {
            var next = 1UL << BitOperations.TrailingZeroCount(bigger);
            if (((iova ^ paddr) & (next - 1)) == 0)
            {
                var offset = next - (addrMerge & (next - 1));
                if (offset + next <= size && offset + next > offset) size = offset;
            }
        }
        count = size >> idx;
        return pgsize;
    }

    /// <summary>Smallest supported size (the core's alignment unit).</summary>
    public static ulong MinPagesize(ulong pgsizeBitmap) => pgsizeBitmap == 0 ? 0 : pgsizeBitmap & (~pgsizeBitmap + 1);

    private static ulong MaskUpTo(int bit) => bit >= 63 ? ulong.MaxValue : (1UL << (bit + 1)) - 1;
}
