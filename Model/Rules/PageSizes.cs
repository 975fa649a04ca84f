using System.Numerics;

namespace IommuConformance.Model.Rules;

/// <summary>The IOMMU core's best-page-size rule (iommu_pgsize in drivers/iommu/iommu.c).</summary>
public static class PageSizes
{
    /// <summary>
    /// The page size and count of the next map_pages / unmap_pages call for [iova, iova + size) → paddr: the largest
    /// size of the bitmap that fits in <paramref name="size"/> and to which iova | paddr is aligned; the count stops
    /// at the next larger size's boundary when iova and paddr are alike offset in it and the rest holds one such page.
    /// The caller has checked alignment to the smallest page, so a size is always found.
    /// </summary>
    public static ulong Best(ulong bitmap, ulong iova, ulong paddr, ulong size, out ulong count)
    {
        var merge = iova | paddr;
        var sizes = bitmap & UpTo(63 - BitOperations.LeadingZeroCount(size));
        if (merge != 0) sizes &= UpTo(BitOperations.TrailingZeroCount(merge));
        var idx = 63 - BitOperations.LeadingZeroCount(sizes);
        var pgsize = 1UL << idx;
        var bigger = idx == 63 ? 0 : bitmap & ~UpTo(idx);
        if (bigger != 0)
        {
            var next = 1UL << BitOperations.TrailingZeroCount(bigger);
            if (((iova ^ paddr) & (next - 1)) == 0)
            {
                var offset = next - (merge & (next - 1));
                if (offset + next <= size) size = offset;
            }
        }
        count = size >> idx;
        return pgsize;
    }

    /// <summary>GENMASK(bit, 0).</summary>
    private static ulong UpTo(int bit) => bit >= 63 ? ulong.MaxValue : (1UL << (bit + 1)) - 1;
}
