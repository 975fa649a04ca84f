namespace IommuConformance.Implementations.Hardware.Memory;

/// <summary>
/// Emulated physical memory: sparse 4 KiB frames holding little-endian 64-bit words. Every IOMMU structure lives
/// here; the driver side writes it, the emulated hardware reads it as a bus master would, and a read of an
/// unbacked frame is an external abort returned as a result (never an exception) so the hardware can report it.
/// </summary>
public sealed class PhysicalMemory
{
    public const int FrameShift = 12;
    public const ulong FrameSize = 1UL << FrameShift;
    private const int WordsPerFrame = (int)(FrameSize / 8);

    private readonly Dictionary<ulong, ulong[]> _frames = [];

    // The last frame looked up: page-table walks and maps touch one table frame many times in a row. A frame's array
    // never changes while it is backed (Back re-zeroes it in place), so only Unback invalidates this. One machine is
    // driven by one thread at a time (as every other structure of the emulation), so the pair needs no lock.
    private ulong _lastPfn = ulong.MaxValue;
    private ulong[]? _lastWords;

    /// <summary>Frames currently backed.</summary>
    public int BackedFrames => _frames.Count;

    /// <summary>
    /// Counts every change of memory (a store, a frame backed or unbacked). A decode of memory made at one generation
    /// holds while the generation is unchanged, so the hardware's read-only views may reuse it between writes.
    /// </summary>
    public ulong Generation { get; private set; }

    /// <summary>Loads and stores that hit an unbacked frame, for tests.</summary>
    public long Aborts { get; private set; }

    public bool IsBacked(ulong addr) => _frames.ContainsKey(addr >> FrameShift);

    /// <summary>Backs the frame holding <paramref name="addr"/> with zeroes (re-zeroes it if already backed).</summary>
    public void Back(ulong addr)
    {
        var pfn = addr >> FrameShift;
        Generation++;
        if (_frames.TryGetValue(pfn, out var words)) Array.Clear(words);
        else _frames[pfn] = new ulong[WordsPerFrame];
    }

    /// <summary>Removes the frame: later accesses abort, so a use after free is visible.</summary>
    public void Unback(ulong addr)
    {
        Generation++;
        _frames.Remove(addr >> FrameShift);
        if (addr >> FrameShift == _lastPfn) (_lastPfn, _lastWords) = (ulong.MaxValue, null);
    }

    private bool TryFrame(ulong pfn, out ulong[] words)
    {
        if (pfn == _lastPfn) { words = _lastWords!; return true; }
        if (!_frames.TryGetValue(pfn, out words!)) return false;
        (_lastPfn, _lastWords) = (pfn, words);
        return true;
    }

    public MemAccess Load64(ulong addr, out ulong value)
    {
        value = 0;
        if ((addr & 7) != 0) return MemAccess.Unaligned;
        if (!TryFrame(addr >> FrameShift, out var words)) { Aborts++; return MemAccess.ExternalAbort; }
        value = words[(int)((addr & (FrameSize - 1)) >> 3)];
        return MemAccess.Ok;
    }

    public MemAccess Store64(ulong addr, ulong value)
    {
        if ((addr & 7) != 0) return MemAccess.Unaligned;
        if (!TryFrame(addr >> FrameShift, out var words)) { Aborts++; return MemAccess.ExternalAbort; }
        Generation++;
        words[(int)((addr & (FrameSize - 1)) >> 3)] = value;
        return MemAccess.Ok;
    }

    public MemAccess Load32(ulong addr, out uint value)
    {
        value = 0;
        if ((addr & 3) != 0) return MemAccess.Unaligned;
        var r = Load64(addr & ~7UL, out var word);
        if (r != MemAccess.Ok) return r;
        value = (uint)(word >> (int)((addr & 4) * 8)); // little-endian: the low half is at the lower address
        return MemAccess.Ok;
    }

    public MemAccess Store32(ulong addr, uint value)
    {
        if ((addr & 3) != 0) return MemAccess.Unaligned;
        var r = Load64(addr & ~7UL, out var word);
        if (r != MemAccess.Ok) return r;
        var shift = (int)((addr & 4) * 8);
        word = (word & ~(0xFFFF_FFFFUL << shift)) | ((ulong)value << shift);
        return Store64(addr & ~7UL, word);
    }

    /// <summary>
    /// Adds to <paramref name="found"/> each index i below <paramref name="count"/> whose entry at
    /// <paramref name="baseAddr"/> + i × <paramref name="strideBytes"/> has a bit of <paramref name="mask"/> set in its
    /// first word: a table scan, as the checks' views make them (entries of an unbacked frame are skipped and no abort is
    /// counted). Stretches of zeroes are passed over a vector at a time. The stride is 8 bytes or a multiple of it that
    /// divides a frame, and the base is aligned to it, so no entry straddles two frames.
    /// </summary>
    public void ScanFlagged(ulong baseAddr, uint count, int strideBytes, ulong mask, List<uint> found)
    {
        if (strideBytes < 8 || strideBytes % 8 != 0 || (int)FrameSize % strideBytes != 0 || baseAddr % (ulong)strideBytes != 0)
            throw new ArgumentException($"a scan needs a stride of 8 bytes or a multiple of it dividing {FrameSize}, and a base aligned to it");
        var strideWords = strideBytes / 8;
        for (var i = 0u; i < count;)
        {
            var addr = baseAddr + i * (ulong)strideBytes;
            var offset = (int)((addr & (FrameSize - 1)) >> 3);
            var entries = (uint)Math.Min(count - i, (ulong)((WordsPerFrame - offset) / strideWords));
            if (TryFrame(addr >> FrameShift, out var words))
            {
                var span = words.AsSpan(offset, (int)entries * strideWords);
                for (var pos = 0; pos < span.Length;)
                {
                    var nonzero = span[pos..].IndexOfAnyExcept(0UL);
                    if (nonzero < 0) break;
                    var entry = (pos + nonzero) / strideWords;
                    if ((span[entry * strideWords] & mask) != 0) found.Add(i + (uint)entry);
                    pos = (entry + 1) * strideWords;
                }
            }
            i += entries;
        }
    }

    /// <summary>
    /// Adds the nonzero words among the <paramref name="count"/> words from <paramref name="baseAddr"/> (8-aligned) to
    /// <paramref name="found"/> as (word index, value), in order, up to the first unbacked frame; false if it met one.
    /// A read of a table as the checks' views make them (no abort counted), a vector at a time through zeroes.
    /// </summary>
    public bool NonzeroWords(ulong baseAddr, int count, List<(int Index, ulong Value)> found)
    {
        if ((baseAddr & 7) != 0) throw new ArgumentException("a table read needs an 8-aligned base");
        for (var i = 0; i < count;)
        {
            var addr = baseAddr + (ulong)i * 8;
            var offset = (int)((addr & (FrameSize - 1)) >> 3);
            var words = Math.Min(count - i, WordsPerFrame - offset);
            if (!TryFrame(addr >> FrameShift, out var frame)) return false;
            var span = frame.AsSpan(offset, words);
            for (var pos = 0; pos < span.Length;)
            {
                var nonzero = span[pos..].IndexOfAnyExcept(0UL);
                if (nonzero < 0) break;
                pos += nonzero;
                found.Add((i + pos, span[pos]));
                pos++;
            }
            i += words;
        }
        return true;
    }

    /// <summary>
    /// Software-side read of memory the caller allocated. An unbacked frame here is a bug of the software (a kernel
    /// oops), not a hardware event, hence the exception.
    /// </summary>
    public ulong Read(ulong addr) =>
        Load64(addr, out var v) == MemAccess.Ok ? v : throw new InvalidOperationException($"software read of unbacked or unaligned 0x{addr:x}");

    /// <summary>Software-side write; see <see cref="Read"/>.</summary>
    public void Write(ulong addr, ulong value)
    {
        if (Store64(addr, value) != MemAccess.Ok) throw new InvalidOperationException($"software write of unbacked or unaligned 0x{addr:x}");
    }
}
