using IommuConformance.Contract;
using IommuConformance.Implementations.Iova;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.IovaAllocator.IovaTreeTests;

namespace IommuConformance.Properties.ImplementationTests.IovaAllocator;

/// <summary>The range caches: hits and misses, rounding, loaded/prev swaps, the depot and its trim, the flush-and-retry path.</summary>
public class IovaRcacheTests
{
    private const int Mag = IovaMagazine.IovaMagSize;

    internal static IovaDomain CachedDomain(int cpus = 2, ulong startPfn = 1, IFaultGate? gate = null)
    {
        var d = Domain(startPfn, cpus, gate);
        Assert.Equal(Errno.OK, d.InitRcaches());
        return d;
    }

    internal static ulong[] AllocMany(IovaDomain d, int n, ulong size = 1) =>
        [.. Enumerable.Range(0, n).Select(_ => d.AllocIova(size, Lim32, true)!.PfnLo)];

    private static IovaCpuCacheView Cpu(IovaDomain d, int bin, int cpu) => d.Bin(bin)!.Cpus[cpu];

    [Fact]
    public void Init_gives_every_bin_two_empty_magazines_per_CPU()
    {
        var d = CachedDomain(cpus: 3);
        Assert.Equal(IovaDomain.IovaRangeCacheMaxSize * 3 * 2, d.LiveMagazines);
        Assert.All(d.Bins(), b => Assert.All(b.Cpus, c => Assert.True(c.Loaded is [] && c.Prev is [])));
        Assert.All(d.Bins(), b => Assert.Equal((0, null), (b.DepotSize, b.WorkDueMs)));
    }

    [Fact]
    public void A_freed_range_is_handed_out_again_from_the_same_CPU_only()
    {
        var d = CachedDomain();
        var p = d.AllocIovaFast(0, 1, Lim32, true);
        d.FreeIovaFast(0, p, 1);
        Assert.Equal(new[] { (0, p) }, d.CachedPfns());
        Assert.Equal(1, d.LiveIovaMem);                                    // a cached pfn is still a tree node
        Assert.NotEqual(p, d.AllocIovaFast(1, 1, Lim32, true));            // CPU 1's cache is empty: the tree
        Assert.Equal(p, d.AllocIovaFast(0, 1, Lim32, true));
        Assert.Equal(2, d.LiveIovaMem);
    }

    [Fact]
    public void Sizes_below_32_are_rounded_up_to_a_power_of_two_and_cached_in_the_bin_of_the_unrounded_order()
    {
        var d = CachedDomain();
        var p = d.AllocIovaFast(0, 3, Lim32, true);
        Assert.Equal(4UL, d.FindIova(p)!.Size);
        Assert.Equal(0UL, p % 4);
        d.FreeIovaFast(0, p, 3);                                           // order_base_2(3) = 2: the bin of 4
        Assert.Equal([p], d.Bin(2)!.Cpus[0].Loaded!);
        Assert.Equal(p, d.AllocIovaFast(0, 4, Lim32, true));
    }

    [Fact]
    public void Sizes_above_32_are_neither_rounded_nor_cached()
    {
        var d = CachedDomain();
        var p = d.AllocIovaFast(0, 33, Lim32, true);
        Assert.Equal(33UL, d.FindIova(p)!.Size);
        Assert.Equal(0UL, p % 64);                                         // still aligned to roundup_pow_of_two
        d.FreeIovaFast(0, p, 33);
        Assert.Empty(d.CachedPfns());
        Assert.Empty(d.Nodes());
    }

    [Fact]
    public void A_cached_pfn_beyond_the_limit_is_a_miss_and_stays_cached()
    {
        var d = CachedDomain();
        var p = d.AllocIovaFast(0, 1, Lim32, true);
        d.FreeIovaFast(0, p, 1);
        Assert.Equal(0xFFFUL, d.AllocIovaFast(0, 1, 0xFFF, false));
        Assert.Equal([p], Cpu(d, 0, 0).Loaded!);
    }

    [Fact]
    public void A_limit_below_the_size_wraps_the_cache_limit_and_hands_out_a_cached_pfn_above_it_as_the_kernel_does()
    {
        // iova_rcache_get(iovad, size, limit_pfn + 1) searches below limit_pfn + 1 - size, unsigned: a DMA mask too
        // small for the size wraps it. Pinned for the DMA layer, whose bad-input rules must cover such masks.
        var d = CachedDomain();
        var p = d.AllocIovaFast(0, 2, Lim32, true);
        d.FreeIovaFast(0, p, 2);
        Assert.Equal(p, d.AllocIovaFast(0, 2, 0, false));                 // limit pfn 0, yet the cached 0xFFFFE
        Assert.Equal(0UL, d.AllocIovaFast(0, 2, 0, false));                // the tree is not fooled
    }

    [Fact]
    public void The_loaded_magazine_is_searched_down_from_its_top_for_a_pfn_that_fits()
    {
        var d = CachedDomain();
        var high = AllocMany(d, 2);                                        // FFFFF, FFFFE
        var low = d.AllocIova(1, 0xFFF, true)!.PfnLo;                      // FFF
        d.FreeIovaFast(0, low, 1);
        d.FreeIovaFast(0, high[0], 1);
        d.FreeIovaFast(0, high[1], 1);
        Assert.Equal(low, d.AllocIovaFast(0, 1, 0xFFF, false));            // the only one that fits, from the bottom
        Assert.Equal([high[1], high[0]], Cpu(d, 0, 0).Loaded!);            // the top entry swapped into its slot
        Assert.Equal(high[0], d.AllocIovaFast(0, 1, Lim32, false));        // otherwise the top
    }

    [Fact]
    public void Frees_fill_loaded_then_swap_in_prev_then_push_the_full_loaded_magazine_to_the_depot()
    {
        var d = CachedDomain();
        var pfns = AllocMany(d, 2 * Mag + 1);
        foreach (var p in pfns[..Mag]) d.FreeIovaFast(0, p, 1);
        Assert.Equal((Mag, 0), (Cpu(d, 0, 0).Loaded!.Count, Cpu(d, 0, 0).Prev!.Count));
        d.FreeIovaFast(0, pfns[Mag], 1);                                  // loaded full: swap with the empty prev
        Assert.Equal((1, Mag), (Cpu(d, 0, 0).Loaded!.Count, Cpu(d, 0, 0).Prev!.Count));
        foreach (var p in pfns[(Mag + 1)..(2 * Mag)]) d.FreeIovaFast(0, p, 1);
        var magazines = d.LiveMagazines;
        d.FreeIovaFast(0, pfns[2 * Mag], 1);                              // both full: a new loaded one
        Assert.Equal(magazines + 1, d.LiveMagazines);
        var bin = d.Bin(0)!;
        Assert.Equal((1, 1, Mag), (bin.DepotSize, bin.Cpus[0].Loaded!.Count, bin.Cpus[0].Prev!.Count));
        Assert.Equal([Mag], bin.Depot.Select(m => m.Size));
        Assert.Equal(IovaDomain.IovaDepotDelayMs, bin.WorkDueMs);
        Assert.Equal(pfns.Length, d.LiveIovaMem);                          // every cached pfn is still a node
    }

    [Fact]
    public void Allocations_empty_loaded_then_swap_in_prev_then_replace_the_empty_loaded_one_with_a_depot_magazine()
    {
        var d = CachedDomain();
        var pfns = AllocMany(d, 3 * Mag);
        foreach (var p in pfns) d.FreeIovaFast(0, p, 1);                   // the 255th pushed one full magazine
        var bin = d.Bin(0)!;
        Assert.Equal((1, Mag, Mag), (bin.DepotSize, bin.Cpus[0].Loaded!.Count, bin.Cpus[0].Prev!.Count));
        for (var i = 0; i < Mag; i++) d.AllocIovaFast(0, 1, Lim32, false);
        Assert.Equal((0, Mag), (Cpu(d, 0, 0).Loaded!.Count, Cpu(d, 0, 0).Prev!.Count));
        d.AllocIovaFast(0, 1, Lim32, false);                               // loaded empty: swap with prev
        Assert.Equal((Mag - 1, 0), (Cpu(d, 0, 0).Loaded!.Count, Cpu(d, 0, 0).Prev!.Count));
        for (var i = 0; i < Mag - 1; i++) d.AllocIovaFast(0, 1, Lim32, false);
        var magazines = d.LiveMagazines;
        var nodes = d.LiveIovaMem;
        d.AllocIovaFast(0, 1, Lim32, false);                               // both empty: the depot's magazine
        Assert.Equal(magazines - 1, d.LiveMagazines);                      // the empty loaded one is freed
        Assert.Equal(nodes, d.LiveIovaMem);                                // a hit: no tree allocation
        Assert.Equal((0, Mag - 1, 0), (d.Bin(0)!.DepotSize, Cpu(d, 0, 0).Loaded!.Count, Cpu(d, 0, 0).Prev!.Count));
    }

    [Fact]
    public void The_depot_is_trimmed_one_magazine_per_100_ms_while_it_holds_more_than_one_per_CPU()
    {
        var d = CachedDomain(cpus: 2);
        var pfns = AllocMany(d, 2 * Mag + 3 * Mag + 1);                    // loaded+prev full, then 4 depot pushes
        foreach (var p in pfns) d.FreeIovaFast(0, p, 1);
        Assert.Equal(4, d.Bin(0)!.DepotSize);
        Assert.Equal(IovaDomain.IovaDepotDelayMs, d.Bin(0)!.WorkDueMs);   // armed by the first push only
        var nodes = d.LiveIovaMem;

        Assert.Equal(Errno.OK, d.Tick(99));
        Assert.Equal(4, d.Bin(0)!.DepotSize);
        Assert.Equal(Errno.OK, d.Tick(1));                                 // t = 100: one magazine back to the tree
        Assert.Equal((3, 200L), (d.Bin(0)!.DepotSize, d.Bin(0)!.WorkDueMs!.Value));
        Assert.Equal(nodes - Mag, d.LiveIovaMem);
        Assert.Equal(Errno.OK, d.Tick(100));                               // t = 200: 3 > 2 CPUs
        Assert.Equal((2, 300L), (d.Bin(0)!.DepotSize, d.Bin(0)!.WorkDueMs!.Value));
        Assert.Equal(Errno.OK, d.Tick(100));                               // t = 300: 2 is not > 2: stop
        Assert.Equal((2, (long?)null), (d.Bin(0)!.DepotSize, d.Bin(0)!.WorkDueMs));
        Assert.Equal(nodes - 2 * Mag, d.LiveIovaMem);
        Assert.All(d.Bin(0)!.Depot, m => Assert.Equal(Mag, m.Size));
    }

    [Fact]
    public void One_long_tick_runs_each_due_work_at_its_own_time()
    {
        var d = CachedDomain(cpus: 1);
        var pfns = AllocMany(d, 2 * Mag + 3 * Mag + 1);
        foreach (var p in pfns) d.FreeIovaFast(0, p, 1);
        Assert.Equal(Errno.OK, d.Tick(50));
        Assert.Equal(Errno.OK, d.Tick(10_000));
        Assert.Equal((1, (long?)null), (d.Bin(0)!.DepotSize, d.Bin(0)!.WorkDueMs));
        Assert.Equal(10_050, d.NowMs);
    }

    [Fact]
    public void A_push_while_the_trim_is_pending_does_not_rearm_it()
    {
        var d = CachedDomain(cpus: 1);
        var pfns = AllocMany(d, 2 * Mag + Mag + 1);
        foreach (var p in pfns[..(2 * Mag + 1)]) d.FreeIovaFast(0, p, 1);  // first push at t = 0
        d.Tick(60);
        foreach (var p in pfns[(2 * Mag + 1)..]) d.FreeIovaFast(0, p, 1); // second push at t = 60
        Assert.Equal((2, 100L), (d.Bin(0)!.DepotSize, d.Bin(0)!.WorkDueMs!.Value));
    }

    [Fact]
    public void Negative_ticks_and_a_clock_going_backwards_are_EINVAL()
    {
        var d = CachedDomain();
        Assert.Equal(Errno.EINVAL, d.Tick(-1));
        d.Tick(10);
        Assert.Equal(Errno.EINVAL, d.AdvanceTo(5));
        Assert.Equal(Errno.EINVAL, d.Tick(long.MaxValue));
        Assert.Equal(10, d.NowMs);
    }

    [Fact]
    public void When_the_tree_is_full_alloc_iova_fast_flushes_every_CPU_and_the_depot_and_retries_once()
    {
        var d = CachedDomain(cpus: 2, startPfn: 0xFFFF0);                  // 16 pfns below 4 GiB
        var pfns = Enumerable.Range(0, 16).Select(_ => d.AllocIovaFast(0, 1, Lim32, true)).ToArray();
        Assert.DoesNotContain(0UL, pfns);
        foreach (var p in pfns) d.FreeIovaFast(1, p, 1);                   // all parked on CPU 1
        Assert.Equal(0UL, d.AllocIovaFast(0, 1, Lim32, flushRcache: false));
        Assert.Equal(1UL, d.Max32AllocSize);
        Assert.Equal(16, d.CachedPfns().Count);
        Assert.Equal(0xFFFFFUL, d.AllocIovaFast(0, 1, Lim32, flushRcache: true));   // flushed, max32 reset by the frees
        Assert.Empty(d.CachedPfns());
        Assert.Equal(1, d.LiveIovaMem);
    }

    [Fact]
    public void The_flush_retries_only_once()
    {
        var d = CachedDomain(cpus: 1, startPfn: 0xFFFF0);
        for (var i = 0; i < 16; i++) d.AllocIovaFast(0, 1, Lim32, true);
        Assert.Equal(0UL, d.AllocIovaFast(0, 1, Lim32, flushRcache: true));
        Assert.Equal(16, d.LiveIovaMem);
    }

    [Fact]
    public void A_double_free_fast_caches_the_pfn_twice_and_both_copies_are_handed_out()
    {
        // Nothing in iova.c checks a free_iova_fast: the DMA layer's unmap must never do this.
        var d = CachedDomain();
        var p = d.AllocIovaFast(0, 1, Lim32, true);
        d.FreeIovaFast(0, p, 1);
        d.FreeIovaFast(0, p, 1);
        Assert.Equal(p, d.AllocIovaFast(0, 1, Lim32, true));
        Assert.Equal(p, d.AllocIovaFast(0, 1, Lim32, true));
    }

    [Fact]
    public void A_cached_pfn_without_a_node_is_WARNed_and_skipped_when_its_magazine_is_flushed()
    {
        var d = CachedDomain();
        var p = d.AllocIovaFast(0, 1, Lim32, true);
        d.FreeIovaFast(0, p, 1);
        d.FreeIovaFast(0, p, 1);                                           // a double free
        d.FreeIovaFast(0, 0x1234, 1);                                      // never allocated
        d.FreeCpuCachedIovas(0);
        Assert.Equal([IovaWarning.MagazinePfnNotInTree, IovaWarning.MagazinePfnNotInTree], d.Warnings.All);
        Assert.Empty(d.Nodes());
        Assert.Empty(d.CachedPfns());
    }

    [Fact]
    public void Put_frees_the_magazines_and_the_nodes_of_cached_pfns_and_cancels_the_trim()
    {
        var d = CachedDomain(cpus: 1);
        var pfns = AllocMany(d, 2 * Mag + 1);
        foreach (var p in pfns) d.FreeIovaFast(0, p, 1);
        d.AllocIova(5, Lim48, false);
        d.PutIovaDomain();
        Assert.Equal((0L, 0L), (d.LiveIovaMem, d.LiveMagazines));
        Assert.False(d.HasRcaches);
        Assert.Equal(Errno.OK, d.Tick(1000));
        Assert.Throws<IovaOopsException>(() => d.FreeIovaFast(0, pfns[0], 1));
    }

    [Fact]
    public void A_cpu_outside_the_machine_is_an_argument_error()
    {
        var d = CachedDomain(cpus: 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.AllocIovaFast(2, 1, Lim32, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.FreeIovaFast(-1, 1, 1));
    }
}
