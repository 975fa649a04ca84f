using IommuConformance.Contract;

namespace IommuConformance.Implementations.Hardware.Memory;

/// <summary>How a free ended: <see cref="NotAllocated"/> is a double free or a free of a pointer never handed out.</summary>
public enum FreeResult { Ok, NotAllocated }

/// <summary>
/// Allocator of zeroed, naturally aligned blocks of 2^order frames for table pages (iommu_alloc_pages_node_sz /
/// iommu_free_pages). Freed frames are unbacked, so a walk through a freed table aborts, and reused last-in
/// first-out, so a stale pointer soon aliases a new table. Live and peak counts are in 4 KiB frames.
/// </summary>
public sealed class FrameAllocator
{
    private readonly PhysicalMemory _mem;
    private readonly ulong _limit;
    private ulong _next;
    private readonly Dictionary<ulong, int> _live = [];          // base -> order
    private readonly Dictionary<int, Stack<ulong>> _free = [];   // order -> freed bases

    public FrameAllocator(PhysicalMemory mem, ulong baseAddress = 0x8000_0000UL, ulong size = 0x4000_0000UL)
    {
        if ((baseAddress & (PhysicalMemory.FrameSize - 1)) != 0) throw new ArgumentException("base must be frame aligned", nameof(baseAddress));
        _mem = mem;
        _next = baseAddress;
        _limit = baseAddress + size;
    }

    public PhysicalMemory Memory => _mem;

    /// <summary>Frames allocated and not yet freed.</summary>
    public long LiveFrames { get; private set; }

    /// <summary>Highest <see cref="LiveFrames"/> seen.</summary>
    public long PeakFrames { get; private set; }

    /// <summary>Blocks allocated and not yet freed.</summary>
    public int LiveBlocks => _live.Count;

    /// <summary>Frees that named no live block (double frees included).</summary>
    public int BadFrees { get; private set; }

    /// <summary>Fault injection: consulted before each allocation; true makes it fail with -ENOMEM.</summary>
    public Func<bool>? ShouldFail { get; set; }

    /// <summary>
    /// Fault injection of the table pages an io-pgtable allocates while it maps (<c>TablePages.AllocTable</c>): the machine's
    /// gate, asked with the site <c>iommu_pages</c>. The other users of this allocator (roots, stream and context tables,
    /// queues) do not ask it (docs/dma.md).
    /// </summary>
    public Iova.IFaultGate? TableGate { get; set; }

    /// <summary>After a block is freed (base, bytes): lets an emulated IOMMU report a page its caches still point at.</summary>
    public event Action<ulong, ulong>? Freed;

    public bool IsAllocated(ulong phys) => _live.ContainsKey(phys);

    /// <summary>The order of the live block at <paramref name="phys"/>, or -1.</summary>
    public int OrderOf(ulong phys) => _live.TryGetValue(phys, out var order) ? order : -1;

    // iommu_alloc_pages_node_sz
    public Errno Alloc(int order, out ulong phys)
    {
        phys = 0;
        if (order is < 0 or > 10) return Errno.EINVAL;
        if (ShouldFail?.Invoke() == true) return Errno.ENOMEM;
        var bytes = PhysicalMemory.FrameSize << order;
        if (_free.TryGetValue(order, out var stack) && stack.Count > 0) phys = stack.Pop();
        else
        {
            var aligned = (_next + bytes - 1) & ~(bytes - 1);
            if (aligned + bytes > _limit) return Errno.ENOMEM;
            phys = aligned;
            _next = aligned + bytes;
        }
        for (ulong off = 0; off < bytes; off += PhysicalMemory.FrameSize) _mem.Back(phys + off);
        _live[phys] = order;
        LiveFrames += 1L << order;
        PeakFrames = Math.Max(PeakFrames, LiveFrames);
        return Errno.OK;
    }

    // iommu_free_pages
    public FreeResult Free(ulong phys)
    {
        if (!_live.Remove(phys, out var order)) { BadFrees++; return FreeResult.NotAllocated; }
        var bytes = PhysicalMemory.FrameSize << order;
        for (ulong off = 0; off < bytes; off += PhysicalMemory.FrameSize) _mem.Unback(phys + off);
        LiveFrames -= 1L << order;
        if (!_free.TryGetValue(order, out var stack)) _free[order] = stack = new Stack<ulong>();
        stack.Push(phys);
        Freed?.Invoke(phys, bytes);
        return FreeResult.Ok;
    }
}
