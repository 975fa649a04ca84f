using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Hardware.Smmuv3;

/// <summary>
/// The walk cache (SMMUv3 architecture §3.7 "TLB tagging, VMIDs, ASIDs and participation in broadcast TLB
/// maintenance"; QEMU keeps only leaves, real SMMUs also keep intermediate entries): per ASID and last-level-table
/// span, the address of the last-level table a walk went through. A DMA that misses the IOTLB resumes its walk
/// there and reads one descriptor. Entries go only by TLBI_NH_VA with LEAF = 0 over their span, TLBI_NH_ASID or
/// TLBI_NSNH_ALL, so a driver that unlinks a table must invalidate with LEAF = 0 (arm_smmu_tlb_inv_range_domain
/// with leaf = false from io-pgtable's tlb_flush_walk). A table page freed while an entry still points at it is a
/// use-after-free: the emulator reports it as a hardware error (the page would be walked by the next DMA).
/// </summary>
public sealed partial class Smmuv3Hardware
{
    public const int WalkCacheEntries = 64;

    private readonly Dictionary<(int Asid, ulong Base), (ulong Table, ulong Span)> _walkCache = [];

    public long WalkCacheHits { get; private set; }

    /// <summary>Live walk-cache entries.</summary>
    public int WalkCacheCount
    {
        get { lock (Gate) return _walkCache.Count; }
    }

    /// <summary>The last-level table the walk cache holds for (ASID, IOVA), or null.</summary>
    public ulong? WalkCacheEntry(int asid, ulong iova, ulong span)
    {
        lock (Gate) return _walkCache.TryGetValue((asid, iova & ~(span - 1)), out var e) ? e.Table : null;
    }

    /// <summary>A walk for an IOTLB miss: from the walk cache's table when it has one, else from the root (filling it).</summary>
    private WalkResult CachedWalk(Smmuv3Config cfg, ulong iova)
    {
        var walker = cfg.Walker!;
        var key = (cfg.Asid, iova & ~(walker.LastLevelSpan - 1));
        if (_walkCache.TryGetValue(key, out var hit))
        {
            WalkCacheHits++;
            return walker.WalkLastLevel(hit.Table, iova, IommuPerm.None);
        }
        var walk = walker.Walk(iova, IommuPerm.None, out var lastLevel);
        if (lastLevel != 0)
        {
            if (_walkCache.Count >= WalkCacheEntries) _walkCache.Clear();
            _walkCache[key] = (lastLevel, walker.LastLevelSpan);
        }
        return walk;
    }

    /// <summary>What the walk cache alone would answer (Peek: nothing counted, nothing filled).</summary>
    private WalkResult? PeekWalkCache(Smmuv3Config cfg, ulong iova) =>
        _walkCache.TryGetValue((cfg.Asid, iova & ~(cfg.Walker!.LastLevelSpan - 1)), out var e)
            ? cfg.Walker.WalkLastLevel(e.Table, iova, IommuPerm.None) : null;

    // TLBI_NH_VA with LEAF = 0: walk-cache entries whose span overlaps [addr, addr + size)
    private void InvalidateWalkCacheRange(int asid, ulong addr, ulong size)
    {
        var last = size == 0 || addr + size - 1 < addr ? ulong.MaxValue : addr + size - 1;
        foreach (var (key, e) in _walkCache.ToArray())
            if (key.Asid == asid && key.Base <= last && key.Base + e.Span - 1 >= addr) _walkCache.Remove(key);
    }

    private void InvalidateWalkCacheAsid(int? asid)
    {
        foreach (var key in _walkCache.Keys.ToArray())
            if (asid is null || key.Asid == asid) _walkCache.Remove(key);
    }

    // FrameAllocator.Freed: a table page going back while the walk cache still points into it
    private void OnFramesFreed(ulong phys, ulong bytes)
    {
        lock (Gate)
            foreach (var ((asid, iova), e) in _walkCache)
                if (e.Table >= phys && e.Table < phys + bytes)
                    Platform.Errors.Add($"{Instance}: table page 0x{e.Table:x} freed while the walk cache still holds it (ASID {asid}, IOVA 0x{iova:x})");
    }
}
