using IommuConformance.Contract;
using IommuConformance.Implementations.Iova;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.IovaAllocator;

/// <summary>The tree allocator as iova.c has it: top-down search, alignment, cached nodes, the retry, max32_alloc_size, find, free.</summary>
public class IovaTreeTests
{
    internal const ulong Lim32 = 0xFFFFF;                  // DMA_BIT_MASK(32) >> 12
    internal const ulong Lim48 = (1UL << 36) - 1;          // DMA_BIT_MASK(48) >> 12
    internal const ulong Dma32 = 0x100000;

    internal static IovaDomain Domain(ulong startPfn = 1, int cpus = 1, IFaultGate? gate = null) => new(4096, startPfn, cpus, gate);

    [Fact]
    public void Init_leaves_only_the_anchor_with_both_cached_nodes_on_it()
    {
        var d = Domain();
        Assert.Empty(d.Nodes());
        Assert.Equal(((IovaDomain.IovaAnchor, IovaDomain.IovaAnchor), (IovaDomain.IovaAnchor, IovaDomain.IovaAnchor)), d.CachedNodes());
        Assert.Equal(Dma32, d.Dma32BitPfn);
        Assert.Equal(Dma32, d.Max32AllocSize);
        Assert.False(d.HasRcaches);
        Assert.Equal(0, d.LiveIovaMem);
    }

    [Theory]
    [InlineData(8192UL)]
    [InlineData(3000UL)]
    [InlineData(0UL)]
    public void Init_refuses_a_granule_above_PAGE_SIZE_or_not_a_power_of_two(ulong granule) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new IovaDomain(granule, 1));

    [Fact]
    public void A_smaller_granule_moves_the_32_bit_boundary_pfn()
    {
        Assert.Equal(1UL << 21, new IovaDomain(2048, 1).Dma32BitPfn);
        Assert.Equal(1UL << 32, new IovaDomain(1, 1).Dma32BitPfn);
    }

    [Fact]
    public void Allocations_go_top_down_from_the_limit()
    {
        var d = Domain();
        Assert.Equal([0xFFFFFUL, 0xFFFFEUL, 0xFFFFDUL], Enumerable.Range(0, 3).Select(_ => d.AllocIova(1, Lim32, true)!.PfnLo));
        Assert.Equal((0xFFFFDUL, 0xFFFFDUL), d.CachedNodes().Cached32);
        Assert.Equal(0x1FFUL, d.AllocIova(1, 0x1FF, true)!.PfnLo);         // a lower limit: just below it
        Assert.Equal((0x1FFUL, 0x1FFUL), d.CachedNodes().Cached32);
        Assert.Equal(0x1FEUL, d.AllocIova(1, Lim32, true)!.PfnLo);        // the next search starts down there
    }

    [Fact]
    public void Size_aligned_ranges_start_on_roundup_pow_of_two_of_their_size_and_unaligned_ones_end_at_the_gap_top()
    {
        var d = Domain();
        Assert.Equal(0xFFFFFUL, d.AllocIova(1, Lim32, true)!.PfnLo);
        var a = d.AllocIova(3, Lim32, sizeAligned: true)!;                 // (FFFFF - 3) aligned down to 4
        Assert.Equal((0xFFFFCUL, 0xFFFFEUL), (a.PfnLo, a.PfnHi));
        var u = d.AllocIova(3, Lim32, sizeAligned: false)!;                // right below a
        Assert.Equal((0xFFFF9UL, 0xFFFFBUL), (u.PfnLo, u.PfnHi));
        Assert.Equal(0xFFFF4UL, d.AllocIova(4, Lim32, true)!.PfnLo);     // (FFFF9 - 4) aligned down to 4
        Assert.Equal(0xFFF80UL, d.AllocIova(100, Lim32, true)!.PfnLo);   // 128-aligned, below
    }

    [Fact]
    public void A_64_bit_limit_starts_from_cached_node_and_a_32_bit_one_from_cached32_node()
    {
        var d = Domain();
        Assert.Equal(Lim48, d.AllocIova(1, Lim48, true)!.PfnLo);
        Assert.Equal(0xFFFFFUL, d.AllocIova(1, Lim32, true)!.PfnLo);       // the 64-bit node does not move cached32
        Assert.Equal(Lim48 - 1, d.AllocIova(1, Lim48, true)!.PfnLo);
        var (cached, cached32) = d.CachedNodes();
        Assert.Equal((Lim48 - 1, Lim48 - 1), cached);
        Assert.Equal((0xFFFFFUL, 0xFFFFFUL), cached32);
    }

    [Fact]
    public void A_hole_above_the_cached_node_is_skipped_while_there_is_room_below()
    {
        var d = Domain();
        d.AllocIova(1, Lim32, true);                                       // FFFFF
        d.AllocIova(4, Lim32, true);                                       // FFFF8..FFFFB: hole FFFFC..FFFFE
        Assert.Equal(0xFFFF6UL, d.AllocIova(2, Lim32, true)!.PfnLo);      // below the cached node, not the hole
    }

    [Fact]
    public void The_search_retries_once_from_the_limit_when_nothing_fits_below_the_cached_node()
    {
        var d = Domain(startPfn: 0xFFFF0);
        d.AllocIova(1, Lim32, true);                                       // FFFFF
        d.AllocIova(4, Lim32, true);                                       // FFFF8: hole FFFFC..FFFFE above it
        Assert.Equal(0xFFFF0UL, d.AllocIova(8, Lim32, true)!.PfnLo);      // fills everything below: cached32 there
        var r = d.AllocIova(2, Lim32, true)!;                              // below fails, the retry finds the hole
        Assert.Equal((0xFFFFCUL, 0xFFFFDUL), (r.PfnLo, r.PfnHi));
        Assert.Equal(0xFFFFEUL, d.AllocIova(1, Lim32, true)!.PfnLo);
        Assert.Null(d.AllocIova(1, Lim32, true));                          // full: both passes fail
        Assert.Equal(1UL, d.Max32AllocSize);
    }

    [Fact]
    public void A_failed_search_arms_max32_alloc_size_which_fails_large_32_bit_requests_at_once_until_a_free_below_4G()
    {
        var d = Domain();
        Assert.Null(d.AllocIova(16, 0xF, true));                           // [1, F] holds no aligned 16
        Assert.Equal(16UL, d.Max32AllocSize);
        Assert.Null(d.AllocIova(16, Lim32, true));                         // room galore, but fast-failed
        Assert.Null(d.AllocIova(20, Lim32, false));
        var small = d.AllocIova(8, Lim32, true)!;                          // smaller sizes still search
        Assert.Equal(0xFFFF8UL, small.PfnLo);
        var high = d.AllocIova(16, Lim48, true)!;                          // a 64-bit limit is not fast-failed
        d.FreeIova(high);                                                  // a free above 4 GiB resets nothing
        Assert.Equal(16UL, d.Max32AllocSize);
        Assert.Null(d.AllocIova(16, Lim32, true));
        d.FreeIova(small.PfnLo);                                           // a free below 4 GiB does
        Assert.Equal(Dma32, d.Max32AllocSize);
        Assert.Equal(0xFFFF0UL, d.AllocIova(16, Lim32, true)!.PfnLo);
    }

    [Fact]
    public void A_failed_64_bit_search_also_arms_max32_alloc_size_as_the_rbtree_allocator_does()
    {
        var d = Domain();
        Assert.Null(d.AllocIova(1UL << 40, Lim48, true));
        Assert.Equal(1UL << 40, d.Max32AllocSize);
        Assert.NotNull(d.AllocIova(1, Lim32, true));                       // smaller than the recorded size
    }

    [Fact]
    public void Freeing_at_or_above_the_cached_node_moves_it_up_past_the_freed_node_so_the_hole_is_reused_next()
    {
        var d = Domain();
        var a = d.AllocIova(1, Lim32, true)!;
        var b = d.AllocIova(1, Lim32, true)!;
        var c = d.AllocIova(1, Lim32, true)!;
        d.FreeIova(b);
        Assert.Equal((a.PfnLo, a.PfnHi), d.CachedNodes().Cached32);
        var b2 = d.AllocIova(1, Lim32, true)!;
        Assert.Equal(b.PfnLo, b2.PfnLo);
        d.FreeIova(a);
        Assert.Equal((IovaDomain.IovaAnchor, IovaDomain.IovaAnchor), d.CachedNodes().Cached32);
        var low = d.AllocIova(1, 0xFFF, true)!;                            // far below: cached32 goes down there
        d.FreeIova(c);                                                     // c is above it: cached32 moves past c
        Assert.Equal((b2.PfnLo, b2.PfnHi), d.CachedNodes().Cached32);
        d.FreeIova(low.PfnLo - 5);                                         // unknown: nothing moves
        Assert.Equal((b2.PfnLo, b2.PfnHi), d.CachedNodes().Cached32);
    }

    [Fact]
    public void Find_returns_the_node_containing_a_pfn_and_null_elsewhere()
    {
        var d = Domain();
        var a = d.AllocIova(8, Lim32, true)!;
        Assert.Same(a, d.FindIova(a.PfnLo));
        Assert.Same(a, d.FindIova(a.PfnHi));
        Assert.Null(d.FindIova(a.PfnLo - 1));
        Assert.Null(d.FindIova(0x1234));
        Assert.Null(d.FindIova(IovaDomain.IovaAnchor - 1));
    }

    [Fact]
    public void Free_of_an_unknown_pfn_is_silently_ignored_and_a_second_free_by_pfn_too()
    {
        var d = Domain();
        var a = d.AllocIova(2, Lim32, true)!;
        d.FreeIova(0x1234);
        d.FreeIova(a.PfnLo + 1);                                           // any pfn inside frees the node
        d.FreeIova(a.PfnLo);
        Assert.Empty(d.Nodes());
        Assert.Empty(d.Warnings.All);
        Assert.Equal(0, d.LiveIovaMem);
    }

    [Fact]
    public void A_double_free_by_node_is_an_oops()
    {
        var d = Domain();
        var a = d.AllocIova(1, Lim32, true)!;
        d.FreeIova(a);
        Assert.Throws<IovaOopsException>(() => d.FreeIova(a));
    }

    [Fact]
    public void Size_zero_is_refused_with_a_warning()
    {
        var d = Domain();
        Assert.Null(d.AllocIova(0, Lim32, true));
        Assert.Equal([IovaWarning.ZeroSize], d.Warnings.All);
        Assert.Equal(0, d.LiveIovaMem);
    }

    [Fact]
    public void The_overflow_guard_refuses_a_gap_whose_top_is_below_the_size()
    {
        // dcdb3ba7e2a8: with start_pfn 1, reserve [2, limit]: the only gap is pfn 1; high_pfn (2) < size (4).
        var d = Domain();
        Assert.NotNull(d.ReserveIova(2, 0xFFF));
        Assert.Null(d.AllocIova(4, 0xFFF, true));
        Assert.Equal([(2UL, 0xFFFUL)], d.Nodes());
    }

    [Fact]
    public void Put_frees_every_node_and_the_domain_is_dead_afterwards()
    {
        var d = Domain();
        d.AllocIova(1, Lim32, true);
        d.ReserveIova(0x10, 0x20);
        d.PutIovaDomain();
        Assert.Equal(0, d.LiveIovaMem);
        Assert.Empty(d.Nodes());
        Assert.Throws<IovaOopsException>(() => d.AllocIova(1, Lim32, true));
        Assert.Equal(Errno.OK, d.Tick(100));                               // no work pending: time just moves
    }
}
