namespace IommuConformance.Implementations.Iova;

/// <summary>
/// struct iova_rcache: one size bin (2^bin granules) of the range cache: per-CPU loaded/prev magazines, and a
/// depot of full magazines shared by all CPUs under <see cref="Lock"/>, trimmed by a delayed work.
/// </summary>
public sealed class IovaRcache
{
    /// <summary>rcache->lock: the depot lock (taken inside a per-CPU lock, outside iova_rbtree_lock).</summary>
    internal readonly Lock Lock = new();

    internal IovaRcache(int bin) => Bin = bin;

    /// <summary>log2 of the sizes this bin caches.</summary>
    public int Bin { get; }

    /// <summary>rcache->depot: the newest magazine first.</summary>
    internal IovaMagazine? Depot { get; set; }

    /// <summary>rcache->depot_size: the depot list's length, kept by push and pop.</summary>
    public int DepotSize { get; internal set; }

    /// <summary>rcache->cpu_rcaches: null until its __alloc_percpu succeeds (the free loop stops there).</summary>
    internal IovaCpuRcache[]? CpuRcaches { get; set; }

    /// <summary>rcache->work: when the depot-trim delayed work is due (emulated ms), or null when not pending.</summary>
    public long? WorkDueMs { get; internal set; }
}

/// <summary>struct iova_cpu_rcache: one CPU's two magazines of one bin. Both are null only on a part-built rcache.</summary>
public sealed class IovaCpuRcache
{
    /// <summary>The per-CPU lock: the outermost lock of the rcache paths.</summary>
    internal readonly Lock Lock = new();

    internal IovaMagazine? Loaded { get; set; }

    internal IovaMagazine? Prev { get; set; }
}
