using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// struct iommu_iotlb_gather: the IOVA range an unmap (or a map that replaced tables) changed, and the table
/// pages it unlinked. The pages are not freed by the page table: the caller invalidates the range (and any walk
/// cache), waits for completion, and only then calls <see cref="FreePages"/>, so no walk can reach a freed page.
/// </summary>
public sealed class IotlbGather
{
    private readonly List<(FrameAllocator Allocator, ulong Phys)> _freelist = [];

    /// <summary>First byte of the gathered range; greater than <see cref="End"/> when empty.</summary>
    public ulong Start { get; private set; } = ulong.MaxValue;

    /// <summary>Last byte of the gathered range (inclusive, as in the kernel).</summary>
    public ulong End { get; private set; }

    /// <summary>Smallest leaf size added through <see cref="AddPage"/> (the invalidation granule), 0 if none.</summary>
    public ulong Pgsize { get; private set; }

    public bool IsEmpty => Start > End;

    public int FreelistCount => _freelist.Count;

    public IEnumerable<ulong> Freelist => _freelist.Select(f => f.Phys);

    // iommu_iotlb_gather_add_range
    public void AddRange(ulong iova, ulong size)
    {
        if (size == 0) return;
        var last = iova + size - 1 < iova ? ulong.MaxValue : iova + size - 1;
        if (IsEmpty)
        {
            Start = iova;
            End = last;
            return;
        }
        Start = Math.Min(Start, iova);
        End = Math.Max(End, last);
    }

    // iommu_iotlb_gather_add_page (without the disjoint-sync: the emulated drivers sync once per unmap)
    public void AddPage(ulong iova, ulong size)
    {
        if (Pgsize == 0 || size < Pgsize) Pgsize = size;
        AddRange(iova, size);
    }

    /// <summary>iommu_pages_list_add: a table page unlinked from its parent, to be freed after the invalidation.</summary>
    public void AddFreedTable(FrameAllocator allocator, ulong phys) => _freelist.Add((allocator, phys));

    // iommu_put_pages_list: called by the driver's iotlb_sync after the IOTLB flush completed
    public int FreePages()
    {
        var n = _freelist.Count;
        foreach (var (allocator, phys) in _freelist) allocator.Free(phys);
        _freelist.Clear();
        return n;
    }

    // iommu_iotlb_gather_init
    public void Reset()
    {
        Start = ulong.MaxValue;
        End = 0;
        Pgsize = 0;
    }
}
