using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>Emulated physical memory and the table-page allocator.</summary>
public class PhysicalMemoryTests
{
    [Fact]
    public void Loads_and_stores_are_little_endian_64_and_32_bit()
    {
        var mem = new PhysicalMemory();
        mem.Back(0x1000);
        Assert.Equal(MemAccess.Ok, mem.Store64(0x1008, 0x1122_3344_5566_7788));
        Assert.Equal(MemAccess.Ok, mem.Load32(0x1008, out var lo));
        Assert.Equal(MemAccess.Ok, mem.Load32(0x100c, out var hi));
        Assert.Equal((0x5566_7788u, 0x1122_3344u), (lo, hi));
        Assert.Equal(MemAccess.Ok, mem.Store32(0x100c, 0xAABB_CCDD));
        Assert.Equal(MemAccess.Ok, mem.Load64(0x1008, out var v));
        Assert.Equal(0xAABB_CCDD_5566_7788UL, v);
        Assert.Equal(MemAccess.Unaligned, mem.Load64(0x1004, out _));
        Assert.Equal(MemAccess.Unaligned, mem.Store32(0x1002, 1));
    }

    [Fact]
    public void Every_change_of_memory_and_no_load_moves_the_generation()
    {
        var mem = new PhysicalMemory();
        var g0 = mem.Generation;
        mem.Back(0x1000);
        var g1 = mem.Generation;
        Assert.True(g1 > g0);
        mem.Load64(0x1000, out _);
        mem.Load32(0x1004, out _);
        mem.Load64(0x9000, out _);                  // an abort changes nothing either
        Assert.Equal(g1, mem.Generation);
        mem.Store64(0x1000, 5);
        var g2 = mem.Generation;
        Assert.True(g2 > g1);
        mem.Store32(0x1004, 7);
        var g3 = mem.Generation;
        Assert.True(g3 > g2);
        mem.Back(0x1000);                           // re-zeroed in place
        var g4 = mem.Generation;
        Assert.True(g4 > g3);
        mem.Unback(0x1000);
        Assert.True(mem.Generation > g4);
        Assert.Equal(MemAccess.ExternalAbort, mem.Store64(0x1000, 1));
    }

    [Fact]
    public void A_scan_finds_the_flagged_entries_across_frames_and_skips_unbacked_ones()
    {
        var mem = new PhysicalMemory();
        mem.Back(0x1000);
        mem.Back(0x3000);                               // 0x2000 stays unbacked
        mem.Store64(0x1000 + 3 * 64, 1);                // entry 3: flagged
        mem.Store64(0x1000 + 5 * 64 + 8, 1);            // entry 5: a later word only, not flagged
        mem.Store64(0x1000 + 63 * 64, 0x80000001);      // entry 63, the frame's last
        mem.Store64(0x3000 + 2 * 64, 3);                // entry 130 (two frames on)
        var found = new List<uint>();
        mem.ScanFlagged(0x1000, 192, 64, 1, found);
        Assert.Equal([3u, 63u, 130u], found);
        found.Clear();
        mem.ScanFlagged(0x1000, 63, 64, 1, found);      // the count ends the scan
        Assert.Equal([3u], found);
        found.Clear();
        mem.ScanFlagged(0x1000 + 64 * 63, 4, 64, 0x80000000, found);   // from inside a frame, another mask
        Assert.Equal([0u], found);
        found.Clear();
        mem.ScanFlagged(0x3000, 512, 8, 2, found);      // 8-byte entries
        Assert.Equal([16u], found);
        Assert.Equal(0, mem.Aborts);
        Assert.Throws<ArgumentException>(() => mem.ScanFlagged(0x1008, 4, 64, 1, found));   // base not aligned to the stride
        Assert.Throws<ArgumentException>(() => mem.ScanFlagged(0x1000, 4, 24, 1, found));   // a stride that does not divide a frame
    }

    [Fact]
    public void A_table_read_lists_the_nonzero_words_in_order_up_to_an_unbacked_frame()
    {
        var mem = new PhysicalMemory();
        mem.Back(0x1000);
        mem.Back(0x2000);                               // 0x3000 unbacked, 0x4000 backed
        mem.Back(0x4000);
        mem.Store64(0x1000, 7);
        mem.Store64(0x1ff8, 8);                         // the frame's last word
        mem.Store64(0x2010, 9);
        mem.Store64(0x4000, 10);
        var found = new List<(int Index, ulong Value)>();
        Assert.True(mem.NonzeroWords(0x1000, 1024, found));
        Assert.Equal([(0, 7UL), (511, 8UL), (514, 9UL)], found);
        found.Clear();
        Assert.False(mem.NonzeroWords(0x1ff8, 2048, found));   // stops at 0x3000: the word at 0x4000 is not read
        Assert.Equal([(0, 8UL), (3, 9UL)], found);
        found.Clear();
        Assert.True(mem.NonzeroWords(0x1008, 510, found));     // from inside a frame, ending before its last word
        Assert.Empty(found);
        Assert.Equal(0, mem.Aborts);
        Assert.Throws<ArgumentException>(() => mem.NonzeroWords(0x1004, 2, found));
    }

    [Fact]
    public void An_unbacked_frame_is_an_external_abort_not_an_exception()
    {
        var mem = new PhysicalMemory();
        Assert.Equal(MemAccess.ExternalAbort, mem.Load64(0x5000, out var v));
        Assert.Equal(0UL, v);
        Assert.Equal(MemAccess.ExternalAbort, mem.Store64(0x5000, 1));
        Assert.Equal(MemAccess.ExternalAbort, mem.Load32(0x5004, out _));
        Assert.Equal(3, mem.Aborts);
        Assert.Throws<InvalidOperationException>(() => mem.Read(0x5000)); // the software side reading unbacked memory is a bug
    }

    [Fact]
    public void The_allocator_hands_out_zeroed_aligned_blocks_counts_live_and_peak_and_detects_bad_frees()
    {
        var mem = new PhysicalMemory();
        var alloc = new FrameAllocator(mem, 0x10_0000, 0x10_0000);
        Assert.Equal(Errno.OK, alloc.Alloc(0, out var a));
        mem.Write(a, 0xdead);
        Assert.Equal(Errno.OK, alloc.Alloc(4, out var b));               // 64 KiB, 64 KiB aligned
        Assert.Equal(0UL, b % 0x1_0000);
        Assert.Equal((17L, 17L, 2), (alloc.LiveFrames, alloc.PeakFrames, alloc.LiveBlocks));
        Assert.Equal(FreeResult.Ok, alloc.Free(a));
        Assert.Equal(MemAccess.ExternalAbort, mem.Load64(a, out _));      // freed: reads abort
        Assert.Equal(FreeResult.NotAllocated, alloc.Free(a));             // double free
        Assert.Equal(FreeResult.NotAllocated, alloc.Free(b + 0x1000));    // never handed out
        Assert.Equal(2, alloc.BadFrees);
        Assert.Equal(Errno.OK, alloc.Alloc(0, out var again));
        Assert.Equal(a, again);                                           // reused first: a stale pointer aliases it
        Assert.Equal(0UL, mem.Read(again));                               // and zeroed
        Assert.Equal((17L, 17L), (alloc.LiveFrames, alloc.PeakFrames));
    }

    [Fact]
    public void Exhaustion_and_injected_failures_are_ENOMEM()
    {
        var alloc = new FrameAllocator(new PhysicalMemory(), 0x10_0000, 0x2000);
        Assert.Equal(Errno.OK, alloc.Alloc(1, out _));
        Assert.Equal(Errno.ENOMEM, alloc.Alloc(0, out _));
        var fail = true;
        var other = new FrameAllocator(new PhysicalMemory()) { ShouldFail = () => fail };
        Assert.Equal(Errno.ENOMEM, other.Alloc(0, out _));
        fail = false;
        Assert.Equal(Errno.OK, other.Alloc(0, out _));
        Assert.Equal(Errno.EINVAL, other.Alloc(-1, out _));
    }
}
