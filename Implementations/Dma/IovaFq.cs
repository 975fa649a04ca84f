using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Dma;

/// <summary>struct iova_fq_entry: an unmapped range waiting for the IOTLB flush that lets it be reused.</summary>
public sealed class IovaFqEntry
{
    public ulong IovaPfn { get; set; }

    public ulong Pages { get; set; }

    /// <summary>The page-table pages the unmap unlinked: freed only after the flush (entry->freelist).</summary>
    public IotlbGather? Freelist { get; set; }

    /// <summary>fq_flush_start_cnt when the entry was queued: a flush that finished past it covers the entry.</summary>
    public long Counter { get; set; }
}

/// <summary>
/// struct iova_fq: a ring of a power-of-two number of entries, <c>mod_mask = size − 1</c>; full when
/// <c>tail + 1 == head</c>, so at most size − 1 entries are queued (255 per CPU, 32767 for the single queue). The
/// kernel allocates the ring whole; here a slot's entry is made the first time the ring reaches it, since most
/// domains of a trace never queue more than a few (a virtio domain's 32768 slots made up front dominated every probe).
/// </summary>
public sealed class IovaFq
{
    public IovaFq(int size)
    {
        if (size <= 1 || (size & (size - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(size), size, "a power of two above 1");
        ModMask = size - 1;
    }

    /// <summary>fq->lock.</summary>
    public Lock Lock { get; } = new();

    private readonly Dictionary<int, IovaFqEntry> _entries = [];

    /// <summary>fq->entries[idx], for idx in [0, size).</summary>
    public IovaFqEntry Entry(int idx)
    {
        if ((uint)idx > (uint)ModMask) throw new ArgumentOutOfRangeException(nameof(idx), idx, "outside the ring");
        if (!_entries.TryGetValue(idx, out var entry)) _entries[idx] = entry = new IovaFqEntry();
        return entry;
    }

    public int ModMask { get; }

    public int Head { get; set; }

    public int Tail { get; set; }

    // fq_full()
    public bool Full => ((Tail + 1) & ModMask) == Head;

    /// <summary>Entries queued now.</summary>
    public int Count => (Tail - Head) & ModMask;

    /// <summary>The queued entries, oldest first (read-only view for invariants).</summary>
    public IEnumerable<IovaFqEntry> Queued()
    {
        for (var i = Head; i != Tail; i = (i + 1) & ModMask) yield return Entry(i);
    }
}
