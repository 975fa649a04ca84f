namespace IommuConformance.Implementations.Iova;

/// <summary>Read-only views of a domain for invariants and tests (the kernel's /sys/kernel/debug-style dumps).</summary>
public sealed partial class IovaDomain
{
    /// <summary>Every tree node except the anchor, by pfn_lo.</summary>
    public IReadOnlyList<(ulong PfnLo, ulong PfnHi)> Nodes()
    {
        lock (_iovaRbtreeLock) return [.. _tree.InOrder().Where(n => n != _anchor).Select(n => (n.PfnLo, n.PfnHi))];
    }

    /// <summary>The two cached search starts: (cached_node, cached32_node); the anchor is (IovaAnchor, IovaAnchor).</summary>
    public ((ulong PfnLo, ulong PfnHi) Cached, (ulong PfnLo, ulong PfnHi) Cached32) CachedNodes()
    {
        lock (_iovaRbtreeLock) return ((CachedNode.PfnLo, CachedNode.PfnHi), (Cached32Node.PfnLo, Cached32Node.PfnHi));
    }

    /// <summary>One bin of the range cache, or null when the domain has no rcaches.</summary>
    public IovaBinView? Bin(int bin)
    {
        var rcaches = _rcaches;
        if (rcaches is null) return null;
        var rcache = rcaches[bin];
        var cpus = new List<IovaCpuCacheView>();
        foreach (var cpuRcache in rcache.CpuRcaches ?? [])
            lock (cpuRcache.Lock) cpus.Add(new(cpuRcache.Loaded?.CachedPfns, cpuRcache.Prev?.CachedPfns));
        var depot = new List<IovaDepotMagazineView>();
        lock (rcache.Lock)
            for (var mag = rcache.Depot; mag is not null; mag = mag.Next) depot.Add(new(mag.Size, mag.CachedPfns));
        return new IovaBinView(bin, cpus, depot, rcache.DepotSize, rcache.WorkDueMs);
    }

    /// <summary>Every bin's view (empty without rcaches).</summary>
    public IReadOnlyList<IovaBinView> Bins() =>
        _rcaches is null ? [] : [.. Enumerable.Range(0, IovaRangeCacheMaxSize).Select(b => Bin(b)!)];

    /// <summary>Every cached pfn with its bin (per-CPU magazines, then the depot), duplicates kept.</summary>
    public IReadOnlyList<(int Bin, ulong Pfn)> CachedPfns() =>
        [.. Bins().SelectMany(b => b.Cpus.SelectMany(c => (c.Loaded ?? []).Concat(c.Prev ?? []))
            .Concat(b.Depot.SelectMany(m => m.Pfns)).Select(p => (b.Bin, p)))];
}

/// <summary>One bin: per-CPU magazines (index = cpu), the depot (newest first), depot_size and the trim work's due time.</summary>
public sealed record IovaBinView(int Bin, IReadOnlyList<IovaCpuCacheView> Cpus, IReadOnlyList<IovaDepotMagazineView> Depot,
    int DepotSize, long? WorkDueMs);

/// <summary>One CPU's loaded and prev magazines' pfns (null for a NULL magazine pointer).</summary>
public sealed record IovaCpuCacheView(IReadOnlyList<ulong>? Loaded, IReadOnlyList<ulong>? Prev);

/// <summary>One depot magazine: its real fill (127 unless something pushed a partial one) and its pfns.</summary>
public sealed record IovaDepotMagazineView(int Size, IReadOnlyList<ulong> Pfns);
