using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Hardware.Smmuv3;

/// <summary>
/// The walk cache: table descriptors of stage-1 walks, tagged by ASID and keyed by the level and the IOVA region the
/// descriptor covers, so that a later walk of that region resumes at the next-level table without reading the levels
/// above. The SMMUv3 architecture allows caching intermediate walk levels, and a TLBI_NH_VA with Leaf = 1 need only
/// invalidate last-level entries, so it keeps them; Leaf = 0, TLBI_NH_ASID and TLBI_NSNH_ALL remove them too
/// (arm-smmu-v3's arm_smmu_tlb_inv_walk issues Leaf = 0 for that reason). QEMU's smmuv3 caches no intermediate
/// levels; a real SMMU does, and a table page freed without a Leaf = 0 invalidation is still walked through here.
/// Deterministic: flushed whole when full.
/// </summary>
public sealed partial class Smmuv3Hardware
{
    public const int WalkCacheEntries = 64;

    private readonly Dictionary<(int Asid, int Level, ulong Base), (ulong Table, ulong Span)> _walkCache = [];

    public long WalkCacheHits { get; private set; }

    public int WalkCacheCount
    {
        get { lock (Gate) return _walkCache.Count; }
    }

    // The deepest cached table for (asid, iova): the level to resume at and its table, or null.
    private (int Level, ulong Table)? CachedWalkStart(int asid, ArmLpaePgtable walker, ulong iova)
    {
        for (var lvl = 2; lvl >= walker.StartLevel; lvl--)
            if (_walkCache.TryGetValue((asid, lvl, iova & ~(walker.SpanAt(lvl) - 1)), out var e)) return (lvl + 1, e.Table);
        return null;
    }

    // A DMA's walk: from the walk cache when it holds the region, filling it with every table descriptor followed.
    private WalkResult WalkCached(int asid, ArmLpaePgtable walker, ulong iova)
    {
        var start = CachedWalkStart(asid, walker, iova);
        if (start is not null) WalkCacheHits++;
        var (level, table) = start ?? (walker.StartLevel, walker.RootPhys);
        var followed = new List<(int Level, ulong Base, ulong Table)>();
        var walk = walker.Walk(iova, IommuPerm.None, level, table, followed);
        foreach (var (lvl, regionBase, next) in followed)
        {
            var key = (asid, lvl, regionBase);
            if (_walkCache.Count >= WalkCacheEntries && !_walkCache.ContainsKey(key)) _walkCache.Clear();
            _walkCache[key] = (next, walker.SpanAt(lvl));
        }
        return walk;
    }

    // The walk a DMA would make now from the walk cache, without filling anything (for Peek); null when none is cached.
    private WalkResult? PeekCachedWalk(int asid, ArmLpaePgtable walker, ulong iova) =>
        CachedWalkStart(asid, walker, iova) is var (level, table) ? walker.Walk(iova, IommuPerm.None, level, table, null) : null;

    /// <summary>Removes the walk-cache entries of <paramref name="asid"/> (every ASID when null) overlapping [iova, iova + size).</summary>
    private void InvalidateWalks(int? asid, ulong iova = 0, ulong size = ulong.MaxValue)
    {
        var last = iova + size - 1 < iova ? ulong.MaxValue : iova + size - 1;
        foreach (var key in _walkCache.Keys.ToArray())
        {
            var span = _walkCache[key].Span;
            if ((asid is null || key.Asid == asid) && key.Base <= last && key.Base + (span - 1) >= iova) _walkCache.Remove(key);
        }
    }

    /// <summary>The next-level table the walk cache holds for the region of <paramref name="span"/> bytes around (ASID, IOVA), or null.</summary>
    public ulong? WalkCacheEntry(int asid, ulong iova, ulong span)
    {
        lock (Gate)
            foreach (var ((a, _, regionBase), e) in _walkCache)
                if (a == asid && e.Span == span && regionBase == (iova & ~(span - 1))) return e.Table;
        return null;
    }

    // FrameAllocator.Freed: a table page going back while a walk-cache entry still points into it is a use-after-free
    // (the next DMA of that region would walk it); the emulator reports it as a hardware error.
    private void OnFramesFreed(ulong phys, ulong bytes)
    {
        lock (Gate)
            foreach (var ((asid, _, regionBase), e) in _walkCache)
                if (e.Table >= phys && e.Table < phys + bytes)
                    Platform.Errors.Add($"{Instance}: table page 0x{e.Table:x} freed while the walk cache still holds it (ASID {asid}, IOVA 0x{regionBase:x})");
    }
}
