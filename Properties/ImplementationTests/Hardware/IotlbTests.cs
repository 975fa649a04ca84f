using IommuConformance.Implementations.Hardware;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>The generic IOTLB: tagged entries that stay until an invalidation covers them.</summary>
public class IotlbTests
{
    private const ulong K4 = 1UL << 12, M2 = 1UL << 21;
    private static readonly ulong[] Sizes = [K4, M2, 1UL << 30];

    [Fact]
    public void Lookups_probe_every_leaf_size_and_count_hits_and_misses()
    {
        var tlb = new Iotlb(8, Sizes);
        tlb.Insert(new IotlbEntry(1, M2, M2, 0x4000_0000, IommuPerm.Read));
        tlb.Insert(new IotlbEntry(1, 0, K4, 0x9000, IommuPerm.ReadWrite));
        Assert.Equal(0x4000_0000UL + 0x1234, tlb.Lookup(1, M2 + 0x1234)!.Value.Translate(M2 + 0x1234));
        Assert.Equal(0x9000UL, tlb.Lookup(1, 0)!.Value.Phys);
        Assert.Null(tlb.Lookup(2, 0));                                   // another tag
        Assert.Null(tlb.Lookup(1, K4));
        Assert.Equal((2L, 2L), (tlb.Hits, tlb.Misses));
        Assert.NotNull(tlb.Peek(1, M2));
        Assert.Equal((2L, 2L), (tlb.Hits, tlb.Misses));
    }

    [Fact]
    public void Entries_stay_stale_until_an_invalidation_covers_them()
    {
        var tlb = new Iotlb(8, Sizes);
        tlb.Insert(new IotlbEntry(1, M2, M2, 0x4000_0000, IommuPerm.Read));
        tlb.Insert(new IotlbEntry(2, M2, M2, 0x8000_0000, IommuPerm.Read));
        Assert.Equal(0, tlb.InvalidateRange(1, 0, M2));                  // adjacent, not overlapping
        Assert.Equal(1, tlb.InvalidateRange(1, M2 + 5 * K4, K4));        // any part of a large leaf removes it whole
        Assert.Null(tlb.Peek(1, M2));
        Assert.NotNull(tlb.Peek(2, M2));
        tlb.Insert(new IotlbEntry(2, 0, K4, 0, IommuPerm.Read));
        Assert.Equal(2, tlb.InvalidateTag(2));
        tlb.Insert(new IotlbEntry(3, 0, K4, 0, IommuPerm.Read));
        tlb.Insert(new IotlbEntry(4, 0, K4, 0, IommuPerm.Read));
        Assert.Equal(2, tlb.InvalidateRangeAllTags(0, K4));
        tlb.Insert(new IotlbEntry(5, 0, K4, 0, IommuPerm.Read));
        Assert.Equal(1, tlb.InvalidateAll());
        Assert.Equal((5L, 6L), (tlb.Invalidations, tlb.EntriesInvalidated));
    }

    [Fact]
    public void A_full_cache_is_flushed_whole_or_loses_its_oldest_entry()
    {
        var flushing = new Iotlb(2, Sizes);
        var fifo = new Iotlb(2, Sizes, IotlbFullPolicy.EvictOldest);
        foreach (var tlb in new[] { flushing, fifo })
            for (ulong i = 0; i < 3; i++) tlb.Insert(new IotlbEntry(1, i * K4, K4, i * K4, IommuPerm.Read));
        Assert.Equal((1, 1L), (flushing.Count, flushing.FullFlushes));
        Assert.NotNull(flushing.Peek(1, 2 * K4));
        Assert.Equal(2, fifo.Count);
        Assert.Null(fifo.Peek(1, 0));
        Assert.NotNull(fifo.Peek(1, K4));

        var none = new Iotlb(0, Sizes);
        none.Insert(new IotlbEntry(1, 0, K4, 0, IommuPerm.Read));
        Assert.Null(none.Lookup(1, 0));
        none.RecordWalk();
        Assert.Equal(1L, none.Walks);
    }
}
