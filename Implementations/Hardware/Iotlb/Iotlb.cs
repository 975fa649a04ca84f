namespace IommuConformance.Implementations.Hardware;

/// <summary>What an insert into a full cache does.</summary>
public enum IotlbFullPolicy
{
    /// <summary>Drop everything, then insert (QEMU smmuv3 and intel_iommu: deterministic "reset when full").</summary>
    FlushAllWhenFull,
    /// <summary>Evict the oldest entry (first in, first out).</summary>
    EvictOldest,
}

/// <summary>
/// A generic IOTLB for the emulated IOMMUs: up to <see cref="Capacity"/> translations keyed by (tag, leaf base),
/// probed at every leaf size the format supports (as QEMU probes each level). It never tidies itself: an entry
/// stays until an invalidation covers it, which is how missing invalidations become visible. Capacity 0 caches
/// nothing. Range invalidation removes every entry that overlaps the range, so invalidating any part of a large
/// leaf removes the whole cached leaf (the hardware's rule, relied on by the kernel's gathers).
/// </summary>
public sealed class Iotlb
{
    private readonly Dictionary<(int Tag, ulong Base), IotlbEntry> _entries = [];
    private readonly Queue<(int Tag, ulong Base)> _order = new();
    private readonly ulong[] _sizes;

    public Iotlb(int capacity, IEnumerable<ulong> leafSizes, IotlbFullPolicy policy = IotlbFullPolicy.FlushAllWhenFull)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        Policy = policy;
        _sizes = [.. leafSizes.Distinct().Order()];
        if (_sizes.Length == 0 || _sizes.Any(s => s == 0 || (s & (s - 1)) != 0))
            throw new ArgumentException("leaf sizes must be non-empty powers of two", nameof(leafSizes));
    }

    public int Capacity { get; }
    public IotlbFullPolicy Policy { get; }
    public int Count => _entries.Count;

    public long Hits { get; private set; }
    public long Misses { get; private set; }
    /// <summary>Walks the owning IOMMU reported (<see cref="RecordWalk"/>): one per miss that went to memory.</summary>
    public long Walks { get; private set; }
    /// <summary>Invalidation commands applied (any scope).</summary>
    public long Invalidations { get; private set; }
    /// <summary>Entries removed by invalidations.</summary>
    public long EntriesInvalidated { get; private set; }
    /// <summary>Times an insert found the cache full and flushed it whole.</summary>
    public long FullFlushes { get; private set; }

    public IEnumerable<IotlbEntry> Entries => _entries.Values;

    /// <summary>The cached translation of (tag, iova), if any; counts a hit or a miss.</summary>
    public IotlbEntry? Lookup(int tag, ulong iova)
    {
        foreach (var size in _sizes)
        {
            if (_entries.TryGetValue((tag, iova & ~(size - 1)), out var e) && e.Size == size)
            {
                Hits++;
                return e;
            }
        }
        Misses++;
        return null;
    }

    /// <summary>Like <see cref="Lookup"/> without touching the counters (for checkers).</summary>
    public IotlbEntry? Peek(int tag, ulong iova)
    {
        foreach (var size in _sizes)
            if (_entries.TryGetValue((tag, iova & ~(size - 1)), out var e) && e.Size == size) return e;
        return null;
    }

    public void RecordWalk() => Walks++;

    /// <summary>Caches a walked translation. The entry's IOVA must be its leaf base.</summary>
    public void Insert(IotlbEntry entry)
    {
        if (Capacity == 0) return;
        var key = (entry.Tag, entry.Iova);
        if (_entries.ContainsKey(key)) { _entries[key] = entry; return; }
        if (_entries.Count >= Capacity)
        {
            if (Policy == IotlbFullPolicy.FlushAllWhenFull)
            {
                FullFlushes++;
                _entries.Clear();
                _order.Clear();
            }
            else
            {
                while (_order.TryDequeue(out var oldest) && !_entries.Remove(oldest)) { }
            }
        }
        _entries[key] = entry;
        _order.Enqueue(key);
    }

    /// <summary>Removes every entry of <paramref name="tag"/> overlapping [iova, iova + size) (TLBI by range, page-selective).</summary>
    public int InvalidateRange(int tag, ulong iova, ulong size)
    {
        if (size == 0) return Count0();
        var last = iova + size - 1 < iova ? ulong.MaxValue : iova + size - 1;
        return RemoveWhere(e => e.Tag == tag && e.Overlaps(iova, last));
    }

    /// <summary>Removes every entry of any tag overlapping the range (TLBI_NH_VAA).</summary>
    public int InvalidateRangeAllTags(ulong iova, ulong size)
    {
        if (size == 0) return Count0();
        var last = iova + size - 1 < iova ? ulong.MaxValue : iova + size - 1;
        return RemoveWhere(e => e.Overlaps(iova, last));
    }

    /// <summary>Removes every entry of <paramref name="tag"/> (TLBI by ASID, domain-selective).</summary>
    public int InvalidateTag(int tag) => RemoveWhere(e => e.Tag == tag);

    /// <summary>Removes everything (TLBI_NH_ALL, global invalidation).</summary>
    public int InvalidateAll()
    {
        Invalidations++;
        var n = _entries.Count;
        EntriesInvalidated += n;
        _entries.Clear();
        _order.Clear();
        return n;
    }

    private int Count0()
    {
        Invalidations++;
        return 0;
    }

    private int RemoveWhere(Func<IotlbEntry, bool> match)
    {
        Invalidations++;
        List<(int, ulong)>? doomed = null;
        foreach (var (key, e) in _entries)
            if (match(e)) (doomed ??= []).Add(key);
        if (doomed is null) return 0;
        foreach (var key in doomed) _entries.Remove(key);
        EntriesInvalidated += doomed.Count;
        return doomed.Count;
    }
}
