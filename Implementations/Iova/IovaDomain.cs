using System.Numerics;
using System.Runtime.CompilerServices;
using IommuConformance.Contract;

namespace IommuConformance.Implementations.Iova;

/// <summary>
/// struct iova_domain (drivers/iommu/iova.c, mainline 6.7+ rbtree + linked-list depot): a tree of allocated and
/// reserved ranges above <see cref="StartPfn"/>, with an anchor node above the usable space and two cached
/// search starts, plus the per-CPU range caches once <see cref="InitRcaches"/> has run. Split by concern: the
/// tree allocator (IovaDomain.Tree.cs), the range caches (IovaDomain.Rcache.cs), the depot-trim work and its
/// emulated clock (IovaDomain.Depot.cs), read-only views (IovaDomain.Inspect.cs).
/// Locks, outermost first: a per-CPU rcache lock, a bin's depot lock (rcache->lock), iova_rbtree_lock. Public
/// methods take the locks they need; workers named *Locked expect theirs and assert it on their first line.
/// CPUs are explicit: every per-CPU operation takes a cpu index in [0, Cpus); all CPUs are online.
/// </summary>
public sealed partial class IovaDomain
{
    /// <summary>IOVA_ANCHOR: the anchor node's pfn_lo and pfn_hi, above every usable pfn.</summary>
    public const ulong IovaAnchor = ulong.MaxValue;

    /// <summary>The emulated machine's PAGE_SIZE, the largest granule init_iova_domain accepts.</summary>
    public const ulong PageSize = 4096;

    private readonly Lock _iovaRbtreeLock = new();   // iovad->iova_rbtree_lock
    private readonly IovaTree _tree = new();
    private readonly Iova _anchor = new(IovaAnchor, IovaAnchor);   // iovad->anchor, embedded: never allocated or freed
    private readonly IFaultGate _gate;
    private long _liveIovaMem;
    private long _liveMagazines;
    private bool _put;

    /// <summary>
    /// init_iova_domain(): an empty tree holding only the anchor, both cached nodes on the anchor, no rcaches.
    /// The kernel BUG()s on a granule above PAGE_SIZE or not a power of two; here that is an argument error.
    /// </summary>
    public IovaDomain(ulong granule, ulong startPfn, int cpus = 1, IFaultGate? gate = null)
    {
        if (granule > PageSize || !BitOperations.IsPow2(granule))
            throw new ArgumentOutOfRangeException(nameof(granule), granule, "init_iova_domain: BUG_ON(granule > PAGE_SIZE || !is_power_of_2(granule))");
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        Granule = granule;
        StartPfn = startPfn;
        Cpus = cpus;
        _gate = gate ?? NeverFailGate.Instance;
        Dma32BitPfn = 1UL << (32 - IovaShift);
        Max32AllocSize = Dma32BitPfn;
        CachedNode = _anchor;
        Cached32Node = _anchor;
        _tree.Insert(_anchor);
    }

    public ulong Granule { get; }

    /// <summary>iova_shift(): log2 of the granule.</summary>
    public int IovaShift => BitOperations.TrailingZeroCount(Granule);

    /// <summary>The lowest pfn alloc_iova hands out (dma-iommu uses 1, so pfn 0 means failure).</summary>
    public ulong StartPfn { get; }

    /// <summary>dma_32bit_pfn: the first pfn at or above 4 GiB.</summary>
    public ulong Dma32BitPfn { get; }

    /// <summary>max32_alloc_size: the size of the last failed search; 32-bit requests this large fail at once.</summary>
    public ulong Max32AllocSize { get; private set; }

    /// <summary>num_possible_cpus() = num_online_cpus() of the emulated machine.</summary>
    public int Cpus { get; }

    /// <summary>The kernel log of this domain's WARN splats.</summary>
    public IovaWarnings Warnings { get; } = new();

    /// <summary>struct iova objects allocated and not yet freed (the anchor is not one): for leak checks.</summary>
    public long LiveIovaMem => Interlocked.Read(ref _liveIovaMem);

    /// <summary>Magazines allocated and not yet freed: for leak checks.</summary>
    public long LiveMagazines => Interlocked.Read(ref _liveMagazines);

    /// <summary>
    /// The seeded bug alloc_iova_no_overflow_guard: __alloc_and_insert_iova_range() as before dcdb3ba7e2a8 ("iommu/iova:
    /// Fix alloc iova overflows issue"): no <c>high_pfn &lt; size</c> guard, and the retry's low bound is the cached
    /// node's pfn_hi + 1, which wraps to 0 when the cached node is the anchor.
    /// </summary>
    public bool NoOverflowGuard { get; init; }

    /// <summary>The seeded bug fast_alloc_unaligned: alloc_iova_fast() falls back to alloc_iova() with size_aligned false.</summary>
    public bool UnalignedFastAlloc { get; init; }

    /// <summary>True once the range caches are set up (iovad->rcaches != NULL).</summary>
    public bool HasRcaches => _rcaches is not null;

    /// <summary>iovad->cached_node: where searches with a limit above 4 GiB start.</summary>
    internal Iova CachedNode { get; private set; }

    /// <summary>iovad->cached32_node: where searches with a limit at or below 4 GiB start.</summary>
    internal Iova Cached32Node { get; private set; }

    // alloc_iova_mem(): kmem_cache_zalloc(GFP_ATOMIC), NULL when the gate says so.
    private Iova? AllocIovaMem()
    {
        if (_gate.ShouldFail(IovaFaultSites.IovaNode)) return null;
        Interlocked.Increment(ref _liveIovaMem);
        return new Iova(0, 0);
    }

    // free_iova_mem(): the embedded anchor is never freed.
    private void FreeIovaMem(Iova iova)
    {
        if (iova.PfnLo != IovaAnchor) Interlocked.Decrement(ref _liveIovaMem);
    }

    // iova_magazine_alloc(): an empty magazine, or NULL when the gate says so.
    private IovaMagazine? IovaMagazineAlloc()
    {
        if (_gate.ShouldFail(IovaFaultSites.Magazine)) return null;
        Interlocked.Increment(ref _liveMagazines);
        return new IovaMagazine();
    }

    // iova_magazine_free(): NULL-safe since fa8fb60d36 ("iommu/iova: Add NULL check in iova_magazine_free()"), which a
    // part-built rcache needs (see docs/iova.md).
    private void IovaMagazineFree(IovaMagazine? mag)
    {
        if (mag is not null) Interlocked.Decrement(ref _liveMagazines);
    }

    private void WarnOn(IovaWarning warning) => Warnings.Warn(warning);

    // Every public entry point: the kernel's iova_domain is dead memory after put_iova_domain.
    private void EnsureLive([CallerMemberName] string caller = "")
    {
        if (_put) throw new IovaOopsException($"{caller} on an iova_domain after put_iova_domain (use after free)");
    }

    // assert_spin_locked(&iovad->iova_rbtree_lock), in every build.
    private void AssertRbtreeLocked([CallerMemberName] string caller = "")
    {
        if (!_iovaRbtreeLock.IsHeldByCurrentThread) throw new InvalidOperationException($"{caller}: iova_rbtree_lock is not held");
    }

    // lockdep_assert_held() for a per-CPU or depot lock.
    private static void AssertHeld(Lock held, string name, [CallerMemberName] string caller = "")
    {
        if (!held.IsHeldByCurrentThread) throw new InvalidOperationException($"{caller}: {name} is not held");
    }

    /// <summary>fls_long(): the 1-based index of the highest set bit, 0 for 0.</summary>
    internal static int FlsLong(ulong x) => 64 - BitOperations.LeadingZeroCount(x);

    /// <summary>order_base_2(): ceil(log2(n)), 0 for 0 and 1.</summary>
    internal static int OrderBase2(ulong n) => n > 1 ? FlsLong(n - 1) : 0;
}
