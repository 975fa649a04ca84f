using IommuConformance.Contract;

namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// The core's loops over a format's map_pages / unmap_pages (the page-table half of iommu_map and iommu_unmap):
/// alignment to the smallest page, the best page size per step, unwinding of a failed map.
/// </summary>
public static class IommuMapping
{
    // __iommu_map: -EINVAL on size 0 or misalignment; on a driver error, unmap what was mapped (nothing half-done)
    public static Errno Map(IIoPgtableOps ops, ulong iova, ulong paddr, ulong size, IommuProt prot, IotlbGather gather, bool unroll = true)
    {
        var min = IommuPgsize.MinPagesize(ops.PgsizeBitmap);
        if (min == 0) return Errno.ENODEV;
        if (size == 0 || ((iova | paddr | size) & (min - 1)) != 0) return Errno.EINVAL;
        if (iova + size - 1 < iova || paddr + size - 1 < paddr) return Errno.EINVAL;

        var origIova = iova;
        var left = size;
        var ret = Errno.OK;
        while (left != 0)
        {
            var pgsize = IommuPgsize.Compute(ops.PgsizeBitmap, iova, paddr, left, out var count);
            ret = ops.MapPages(iova, paddr, pgsize, count, prot, gather, out var mapped);
            left -= mapped;
            if (ret != Errno.OK) break;
            if (mapped == 0) { ret = Errno.EINVAL; break; } // a format that maps nothing without an error would loop forever
            iova += mapped;
            paddr += mapped;
        }
        // "unroll mapping in case something went wrong" (without it: seeded bug map_failure_not_unwound)
        if (ret != Errno.OK && size - left != 0 && unroll) Unmap(ops, origIova, size - left, gather);
        return ret;
    }

    // __iommu_unmap: bytes unmapped, 0 on misalignment; stops where unmap_pages answers 0
    public static ulong Unmap(IIoPgtableOps ops, ulong iova, ulong size, IotlbGather gather)
    {
        var min = IommuPgsize.MinPagesize(ops.PgsizeBitmap);
        if (min == 0 || size == 0 || ((iova | size) & (min - 1)) != 0) return 0;
        if (iova + size - 1 < iova) return 0;

        ulong unmapped = 0;
        while (unmapped < size)
        {
            var pgsize = IommuPgsize.Compute(ops.PgsizeBitmap, iova, iova, size - unmapped, out var count);
            var page = ops.UnmapPages(iova, pgsize, count, gather);
            if (page == 0) break;
            iova += page;
            unmapped += page;
        }
        return unmapped;
    }
}
