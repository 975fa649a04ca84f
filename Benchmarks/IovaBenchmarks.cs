using BenchmarkDotNet.Attributes;
using IommuConformance.Implementations.Iova;

namespace IommuConformance.Benchmarks;

/// <summary>
/// The IOVA allocator at 1k, 10k and 100k live single-granule allocations: a steady-state alloc + free pair through
/// the tree (alloc_iova + __free_iova) below 4 GiB and above it, through the range cache (alloc_iova_fast +
/// free_iova_fast, a hit every time), and the kernel's slow case: a search that walks past every one-granule hole
/// of a fragmented tree. Per pair, the cached pair should stay flat and the tree pair grow at most as log n; the
/// walk grows as n in the kernel too (docs/iova.md).
/// </summary>
[MemoryDiagnoser]
public class IovaBenchmarks
{
    private const ulong Lim32 = 0xFFFFF, Lim48 = (1UL << 36) - 1;

    [Params(1_000, 10_000, 100_000)]
    public int Live { get; set; }

    private IovaDomain _tree32 = null!, _tree64 = null!, _fast = null!, _fragmented = null!;
    private Iova _top = null!;

    [GlobalSetup]
    public void Setup()
    {
        _tree32 = Filled(Lim32);
        _tree64 = Filled(Lim48);

        _fast = new IovaDomain(4096, 1, cpus: 1);
        if (_fast.InitRcaches() != Contract.Errno.OK) throw new InvalidOperationException("rcache init failed");
        for (var i = 0; i < Live; i++) _fast.AllocIovaFast(0, 1, Lim32, true);
        _fast.FreeIovaFast(0, _fast.AllocIovaFast(0, 1, Lim32, true), 1);   // one pfn in the loaded magazine

        // Every other granule of 2 * Live held: Live one-granule holes no two-granule request fits.
        _fragmented = new IovaDomain(4096, 1);
        var nodes = Enumerable.Range(0, 2 * Live).Select(_ => _fragmented.AllocIova(1, Lim48, false)!).ToArray();
        for (var i = 1; i < nodes.Length; i += 2) _fragmented.FreeIova(nodes[i]);
        _top = nodes[0];
    }

    private IovaDomain Filled(ulong limit)
    {
        var d = new IovaDomain(4096, 1);
        for (var i = 0; i < Live; i++) d.AllocIova(1, limit, true);
        return d;
    }

    [Benchmark(Baseline = true)]
    public void TreePair32() => _tree32.FreeIova(_tree32.AllocIova(1, Lim32, true)!);

    [Benchmark]
    public void TreePair64() => _tree64.FreeIova(_tree64.AllocIova(1, Lim48, true)!);

    [Benchmark]
    public void RcacheHitPair() => _fast.FreeIovaFast(0, _fast.AllocIovaFast(0, 1, Lim32, true), 1);

    /// <summary>A two-granule search from the top walks past all Live holes; freeing the top node re-arms the walk.</summary>
    [Benchmark]
    public void FragmentedWalk()
    {
        _fragmented.FreeIova(_fragmented.AllocIova(2, Lim48, true)!);
        _fragmented.FreeIova(_top);                        // cached_node back to the anchor
        _top = _fragmented.AllocIova(1, Lim48, false)!;    // the top granule again; cached_node on it
    }
}
