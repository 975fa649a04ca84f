namespace IommuConformance.Implementations.PageTable;

/// <summary>virtio-iommu request status codes (VIRTIO_IOMMU_S_*).</summary>
public enum VirtioIommuStatus : byte { Ok = 0, IoErr = 1, Unsupp = 2, DevErr = 3, Inval = 4, Range = 5, NoEnt = 6, Fault = 7, NoMem = 8 }

/// <summary>MAP flags (VIRTIO_IOMMU_MAP_F_*).</summary>
[Flags]
public enum VirtioMapFlags : uint { None = 0, Read = 1, Write = 2, Mmio = 4 }

/// <summary>One mapping the device keeps: inclusive [VirtStart, VirtEnd] → PhysStart.</summary>
public readonly record struct VirtioMapping(ulong VirtStart, ulong VirtEnd, ulong PhysStart, VirtioMapFlags Flags)
{
    public ulong Size => VirtEnd - VirtStart + 1;
}

/// <summary>
/// The mappings of one domain inside an emulated virtio-iommu device (an interval map, as QEMU and crosvm keep
/// them). MAP of a range overlapping any mapping is INVAL; UNMAP follows the spec strictly (crosvm, not QEMU):
/// if a mapping straddles either end of the range the answer is RANGE and nothing is removed; otherwise every
/// mapping inside is removed, and a range covering none is OK.
/// </summary>
public sealed class VirtioMappingTable(ulong pageSizeMask = 0x1000, ulong inputStart = 0, ulong inputEnd = (1UL << 48) - 1)
{
    // Sorted by start; mappings never overlap, so the one holding an address is the last starting at or below it.
    private readonly SortedList<ulong, VirtioMapping> _byStart = [];

    public ulong PageSizeMask => pageSizeMask;
    public ulong InputStart => inputStart;
    public ulong InputEnd => inputEnd;
    public int Count => _byStart.Count;
    public IEnumerable<VirtioMapping> Mappings => _byStart.Values;

    /// <summary>Bytes the last successful UNMAP removed.</summary>
    public ulong LastUnmapped { get; private set; }

    private ulong Granule => pageSizeMask & (~pageSizeMask + 1);

    // virtio_iommu_map (device side)
    public VirtioIommuStatus Map(ulong virtStart, ulong virtEnd, ulong physStart, VirtioMapFlags flags)
    {
        if ((flags & ~(VirtioMapFlags.Read | VirtioMapFlags.Write | VirtioMapFlags.Mmio)) != 0) return VirtioIommuStatus.Inval;
        if (virtEnd < virtStart) return VirtioIommuStatus.Inval;
        var g = Granule;
        if (((virtStart | physStart) & (g - 1)) != 0 || ((virtEnd + 1) & (g - 1)) != 0) return VirtioIommuStatus.Range;
        if (virtStart < inputStart || virtEnd > inputEnd || physStart + (virtEnd - virtStart) < physStart) return VirtioIommuStatus.Range;
        if (FirstOverlapping(virtStart, virtEnd) >= 0) return VirtioIommuStatus.Inval;
        _byStart[virtStart] = new VirtioMapping(virtStart, virtEnd, physStart, flags);
        return VirtioIommuStatus.Ok;
    }

    // virtio_iommu_unmap (device side), spec-strict
    public VirtioIommuStatus Unmap(ulong virtStart, ulong virtEnd)
    {
        LastUnmapped = 0;
        if (virtEnd < virtStart) return VirtioIommuStatus.Inval;
        var hit = Overlapping(virtStart, virtEnd);
        if (hit.Any(m => m.VirtStart < virtStart || m.VirtEnd > virtEnd)) return VirtioIommuStatus.Range;
        foreach (var m in hit)
        {
            _byStart.Remove(m.VirtStart);
            LastUnmapped += m.Size;
        }
        return VirtioIommuStatus.Ok;
    }

    /// <summary>The mapping holding <paramref name="iova"/>, if any.</summary>
    public VirtioMapping? Find(ulong iova)
    {
        var i = FirstOverlapping(iova, iova);
        return i < 0 ? null : _byStart.Values[i];
    }

    public void Clear() => _byStart.Clear();

    private List<VirtioMapping> Overlapping(ulong start, ulong end)
    {
        var hit = new List<VirtioMapping>();
        var values = _byStart.Values;
        for (var i = Math.Max(FirstOverlapping(start, end), 0); i < values.Count && values[i].VirtStart <= end; i++)
            if (start <= values[i].VirtEnd) hit.Add(values[i]);
        return hit;
    }

    /// <summary>The index of the first mapping meeting [start, end], or -1.</summary>
    private int FirstOverlapping(ulong start, ulong end)
    {
        var keys = _byStart.Keys;
        var values = _byStart.Values;
        // the last mapping starting at or below start may reach into the range; else the first one after start
        int lo = 0, hi = keys.Count - 1, last = -1;
        while (lo <= hi)
        {
            var mid = lo + (hi - lo) / 2;
            if (keys[mid] <= start) { last = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (last >= 0 && values[last].VirtEnd >= start) return last;
        var next = last + 1;
        return next < keys.Count && keys[next] <= end ? next : -1;
    }
}
