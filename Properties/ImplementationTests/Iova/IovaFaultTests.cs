using IommuConformance.Contract;
using IommuConformance.Implementations.Iova;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.IovaAllocator.IovaRcacheTests;
using static IommuConformance.Properties.ImplementationTests.IovaAllocator.IovaTreeTests;

namespace IommuConformance.Properties.ImplementationTests.IovaAllocator;

/// <summary>Every fallible allocation of the allocator asks the gate, and a failure there does what the kernel does on NULL.</summary>
public class IovaFaultTests
{
    [Fact]
    public void A_failed_node_allocation_fails_alloc_iova_before_any_search()
    {
        var gate = new FailNthGate();
        var d = Domain(gate: gate);
        gate.Arm(1);
        Assert.Null(d.AllocIova(1, Lim32, true));
        Assert.Equal(IovaFaultSites.IovaNode, gate.FailedSite);
        Assert.Equal((0L, 0x100000UL), (d.LiveIovaMem, d.Max32AllocSize));   // no search ran: max32 untouched
        Assert.Equal(0xFFFFFUL, d.AllocIova(1, Lim32, true)!.PfnLo);
    }

    [Fact]
    public void A_failed_node_allocation_fails_reserve_iova_but_nodes_already_stretched_stay_stretched()
    {
        var gate = new FailNthGate();
        var d = Domain(gate: gate);
        d.ReserveIova(0x10, 0x1F);
        gate.Arm(1);
        Assert.Null(d.ReserveIova(0x8, 0x2F));
        Assert.Equal([(0x8UL, 0x1FUL)], d.Nodes());
    }

    [Fact]
    public void A_failed_node_allocation_in_alloc_iova_fast_flushes_the_caches_and_the_retry_succeeds()
    {
        var gate = new FailNthGate();
        var d = CachedDomain(cpus: 2, gate: gate);
        var cached = d.AllocIovaFast(1, 8, Lim32, true);
        d.FreeIovaFast(1, cached, 8);
        gate.Arm(1);
        var p = d.AllocIovaFast(0, 1, Lim32, flushRcache: true);
        Assert.Equal(IovaFaultSites.IovaNode, gate.FailedSite);
        Assert.NotEqual(0UL, p);
        Assert.Empty(d.CachedPfns());                                      // CPU 1's range went back to the tree
        gate.Arm(1);
        Assert.Equal(0UL, d.AllocIovaFast(0, 1, Lim32, flushRcache: false));
    }

    [Fact]
    public void A_failed_magazine_allocation_in_free_iova_fast_frees_the_range_in_the_tree()
    {
        var gate = new FailNthGate();
        var d = CachedDomain(cpus: 1, gate: gate);
        var pfns = AllocMany(d, 2 * IovaMagazine.IovaMagSize + 1);
        foreach (var p in pfns[..^1]) d.FreeIovaFast(0, p, 1);            // loaded and prev full
        var magazines = d.LiveMagazines;
        gate.Arm(1);
        d.FreeIovaFast(0, pfns[^1], 1);
        Assert.Equal(IovaFaultSites.Magazine, gate.FailedSite);
        Assert.Null(d.FindIova(pfns[^1]));
        Assert.Equal((magazines, 0), (d.LiveMagazines, d.Bin(0)!.DepotSize));
        Assert.Equal(2 * IovaMagazine.IovaMagSize, d.CachedPfns().Count);
    }

    public static TheoryData<int> InitCpuCounts => [1, 3];

    [Theory]
    [MemberData(nameof(InitCpuCounts))]
    public void Every_allocation_of_rcache_init_asks_the_gate_in_the_kernels_order(int cpus)
    {
        var gate = new FailNthGate();
        var d = Domain(cpus: cpus, gate: gate);
        Assert.Equal(Errno.OK, d.InitRcaches());
        string[] perBin = [IovaFaultSites.CpuRcaches, .. Enumerable.Repeat(IovaFaultSites.Magazine, 2 * cpus)];
        string[] expected = [IovaFaultSites.Rcaches, .. Enumerable.Repeat(perBin, IovaDomain.IovaRangeCacheMaxSize).SelectMany(b => b)];
        Assert.Equal(expected, gate.Asked);
    }

    [Theory]
    [MemberData(nameof(InitCpuCounts))]
    public void A_failure_at_any_allocation_of_rcache_init_is_ENOMEM_frees_everything_built_and_leaves_no_rcaches(int cpus)
    {
        var asks = 1 + IovaDomain.IovaRangeCacheMaxSize * (1 + 2 * cpus);
        for (var n = 1; n <= asks; n++)
        {
            var gate = new FailNthGate();
            var d = Domain(startPfn: 1, cpus: cpus, gate: gate);
            gate.Arm(n);
            Assert.Equal(Errno.ENOMEM, d.InitRcaches());
            Assert.False(d.HasRcaches);
            Assert.Equal(0, d.LiveMagazines);                              // part-built magazines freed, NULL ones skipped
            Assert.Equal(1UL, d.StartPfn);                                 // init_iova_domain's state stays
            Assert.Equal(Errno.OK, d.InitRcaches());                       // a later init can succeed
            Assert.Equal(IovaDomain.IovaRangeCacheMaxSize * 2 * cpus, d.LiveMagazines);
        }
    }

    [Fact]
    public void Without_rcaches_the_fast_paths_dereference_NULL_as_the_kernel_does_and_the_tree_paths_work()
    {
        // The rcache thread of issue #7: the next device of the group "succeeds" with rcaches NULL, then oopses.
        var gate = new FailNthGate();
        var d = Domain(gate: gate);
        gate.Arm(1);
        Assert.Equal(Errno.ENOMEM, d.InitRcaches());
        Assert.Throws<IovaOopsException>(() => d.AllocIovaFast(0, 1, Lim32, true));
        var a = d.AllocIova(1, Lim32, true)!;
        Assert.Throws<IovaOopsException>(() => d.FreeIovaFast(0, a.PfnLo, 1));
        var big = d.AllocIova(64, Lim32, true)!;
        d.FreeIovaFast(0, big.PfnLo, 64);                                  // no bin for 64: checked before the deref
        Assert.Null(d.FindIova(big.PfnLo));
        d.PutIovaDomain();                                                 // put checks rcaches first
        Assert.Equal(0, d.LiveIovaMem);
    }

    [Fact]
    public void The_fail_nth_gate_fails_exactly_the_nth_ask_once()
    {
        var gate = new FailNthGate();
        Assert.False(gate.ShouldFail("a"));                                // disarmed
        gate.Arm(2);
        Assert.Equal([false, true, false], new[] { "b", "c", "d" }.Select(gate.ShouldFail));
        Assert.Equal("c", gate.FailedSite);
        Assert.Throws<ArgumentOutOfRangeException>(() => gate.Arm(-1));
    }

    [Fact]
    public void Every_site_name_is_asked_by_some_path()
    {
        var gate = new FailNthGate();
        var d = CachedDomain(cpus: 1, gate: gate);
        var pfns = AllocMany(d, 2 * IovaMagazine.IovaMagSize + 1);
        foreach (var p in pfns) d.FreeIovaFast(0, p, 1);
        Assert.Equal(IovaFaultSites.All.Order(), gate.Asked.Distinct().Order());
    }
}
