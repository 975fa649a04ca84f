using IommuConformance.Contract;

namespace IommuConformance.Implementations.Iova;

/// <summary>
/// The range caches. Magazine caches after Bonwick and Adams, "Magazines and Vmem: Extending the Slab Allocator to
/// Many CPUs and Arbitrary Resources" (USENIX 2001), with a fixed magazine size: per size bin, each CPU keeps a
/// loaded and a previous magazine, and a depot holds full magazines for any CPU. 6 bins (IOVA_RANGE_CACHE_MAX_SIZE)
/// cache sizes 1..32 granules, the DMA layer's "optimal mapping size" (iova_rcache_range() = PAGE_SIZE &lt;&lt; 5);
/// a magazine holds 127 pfns (1 KiB); the depot is trimmed one magazine per 100 ms while it holds more than one
/// magazine per online CPU (IovaDomain.Depot.cs).
/// </summary>
public sealed partial class IovaDomain
{
    /// <summary>IOVA_RANGE_CACHE_MAX_SIZE: log2 of the largest cached size, plus one (bins 0..5).</summary>
    public const int IovaRangeCacheMaxSize = 6;

    private IovaRcache[]? _rcaches;   // iovad->rcaches: NULL until iova_domain_init_rcaches succeeds

    /// <summary>
    /// iova_domain_init_rcaches() - 6 bins, each with a per-CPU array holding two empty magazines per CPU.
    /// Return: OK, or -ENOMEM when any allocation fails; then free_iova_rcaches() frees what was built (its loop
    /// stops at the first bin without a per-CPU array) and the domain is left with no rcaches, start_pfn unchanged.
    /// </summary>
    /// <summary>
    /// The pre-6.1 init_iova_rcaches() behaviour (set by the seeded bug magazine_use_after_failed_alloc): a magazine
    /// that could not be allocated is left NULL and init goes on; the first use of that CPU's cache dereferences it.
    /// </summary>
    public bool IgnoreMagazineFailure { get; init; }

    public Errno InitRcaches()
    {
        EnsureLive();
        _rcaches = _gate.ShouldFail(IovaFaultSites.Rcaches) ? null : NewBins();   // kcalloc: zeroed bins
        if (_rcaches is null) return Errno.ENOMEM;
        for (var i = 0; i < IovaRangeCacheMaxSize; i++)
        {
            var rcache = _rcaches[i];
            if (_gate.ShouldFail(IovaFaultSites.CpuRcaches)) goto out_err;
            rcache.CpuRcaches = NewCpuRcaches();   // __alloc_percpu: zeroed, both magazines NULL
            foreach (var cpuRcache in rcache.CpuRcaches)
            {
                cpuRcache.Loaded = IovaMagazineAlloc();
                cpuRcache.Prev = IovaMagazineAlloc();   // both are tried before either is checked
                if ((cpuRcache.Loaded is null || cpuRcache.Prev is null) && !IgnoreMagazineFailure) goto out_err;
            }
        }
        return Errno.OK;   // cpuhp_state_add_instance_nocalls (the CPU-dead hook) cannot fail here: no hotplug

    out_err:
        FreeIovaRcaches();
        return Errno.ENOMEM;
    }

    private static IovaRcache[] NewBins() => [.. Enumerable.Range(0, IovaRangeCacheMaxSize).Select(i => new IovaRcache(i))];

    private IovaCpuRcache[] NewCpuRcaches() => [.. Enumerable.Range(0, Cpus).Select(_ => new IovaCpuRcache())];

    // iova_domain_free_rcaches() → free_iova_rcaches(): frees magazines, never returns their pfns to the tree.
    private void IovaDomainFreeRcaches() => FreeIovaRcaches();

    // free_iova_rcaches()
    private void FreeIovaRcaches()
    {
        foreach (var rcache in _rcaches!)
        {
            if (rcache.CpuRcaches is null) break;
            foreach (var cpuRcache in rcache.CpuRcaches)
            {
                IovaMagazineFree(cpuRcache.Loaded);
                IovaMagazineFree(cpuRcache.Prev);
            }
            rcache.CpuRcaches = null;                 // free_percpu
            CancelDelayedWorkSync(rcache);
            lock (rcache.Lock)                        // the kernel takes no lock at teardown; the pop asserts one
                while (rcache.Depot is not null) IovaMagazineFree(IovaDepotPopLocked(rcache));
        }
        _rcaches = null;
    }

    /// <summary>
    /// alloc_iova_fast() - a size-aligned range from CPU <paramref name="cpu"/>'s cache, else from the tree; if the
    /// tree has no room and <paramref name="flushRcache"/> is set, every CPU's cached ranges and the depots go back
    /// to the tree and the tree is tried once more. Sizes below 32 are rounded up to a power of two so that what
    /// comes back to the cache always fits its bin. Return: pfn_lo, or 0 for failure.
    /// </summary>
    public ulong AllocIovaFast(int cpu, ulong size, ulong limitPfn, bool flushRcache)
    {
        EnsureLive();
        CheckCpu(cpu);
        if (size == 0)
        {
            WarnOn(IovaWarning.ZeroSize);
            return 0;
        }
        if (size < 1UL << (IovaRangeCacheMaxSize - 1)) size = RoundupPowOfTwo(size);

        var iovaPfn = IovaRcacheGet(cpu, size, limitPfn + 1);
        if (iovaPfn != 0) return iovaPfn;

        while (true)
        {
            // Seeded bug fast_alloc_unaligned: the tree search is not size-aligned.
            var newIova = AllocIova(size, limitPfn, sizeAligned: !UnalignedFastAlloc);
            if (newIova is not null) return newIova.PfnLo;
            if (!flushRcache) return 0;
            flushRcache = false;   // "Try replenishing IOVAs by flushing rcache", once
            for (var c = 0; c < Cpus; c++) FreeCpuCachedIovas(c);
            FreeGlobalCachedIovas();
        }
    }

    /// <summary>
    /// free_iova_fast() - puts [<paramref name="pfn"/>, +<paramref name="size"/>) into CPU <paramref name="cpu"/>'s
    /// cache, or frees it in the tree (free_iova) when the size has no bin or no magazine could be allocated.
    /// Nothing checks that the pfn is live or the size is the one allocated: the cache takes it as given.
    /// </summary>
    public void FreeIovaFast(int cpu, ulong pfn, ulong size)
    {
        EnsureLive();
        CheckCpu(cpu);
        if (IovaRcacheInsert(cpu, pfn, size)) return;
        FreeIova(pfn);
    }

    // iova_rcache_insert()
    private bool IovaRcacheInsert(int cpu, ulong pfn, ulong size)
    {
        var logSize = OrderBase2(size);
        if (logSize >= IovaRangeCacheMaxSize) return false;
        return IovaRcacheInsertTo(Rcaches("iova_rcache_insert")[logSize], cpu, pfn);
    }

    // __iova_rcache_insert(): loaded, else prev (swapped in), else a fresh loaded magazine with the full one moved to
    // the depot; false only when that fresh magazine cannot be allocated.
    private bool IovaRcacheInsertTo(IovaRcache rcache, int cpu, ulong iovaPfn)
    {
        var cpuRcache = CpuRcacheOf(rcache, cpu);
        lock (cpuRcache.Lock)
        {
            var canInsert = false;
            if (!Deref(cpuRcache.Loaded).Full)
            {
                canInsert = true;
            }
            else if (!Deref(cpuRcache.Prev).Full)
            {
                (cpuRcache.Prev, cpuRcache.Loaded) = (cpuRcache.Loaded, cpuRcache.Prev);
                canInsert = true;
            }
            else if (IovaMagazineAlloc() is { } newMag)
            {
                lock (rcache.Lock) IovaDepotPushLocked(rcache, cpuRcache.Loaded!);
                ScheduleDelayedWork(rcache);
                cpuRcache.Loaded = newMag;
                canInsert = true;
            }
            if (canInsert) cpuRcache.Loaded!.Push(iovaPfn);
            return canInsert;
        }
    }

    // iova_rcache_get(): the cache answers for pfns with pfn + size - 1 below limitPfn (one past the usable limit).
    private ulong IovaRcacheGet(int cpu, ulong size, ulong limitPfn)
    {
        var logSize = OrderBase2(size);
        if (logSize >= IovaRangeCacheMaxSize) return 0;
        return IovaRcacheGetFrom(Rcaches("iova_rcache_get")[logSize], cpu, limitPfn - size);
    }

    // __iova_rcache_get(): loaded if not empty, else prev (swapped in), else a full depot magazine replaces the empty
    // loaded one. Only the loaded magazine is searched: if none of its pfns fits the limit, the cache misses.
    private ulong IovaRcacheGetFrom(IovaRcache rcache, int cpu, ulong limitPfn)
    {
        var cpuRcache = CpuRcacheOf(rcache, cpu);
        lock (cpuRcache.Lock)
        {
            var hasPfn = false;
            if (!Deref(cpuRcache.Loaded).Empty)
            {
                hasPfn = true;
            }
            else if (!Deref(cpuRcache.Prev).Empty)
            {
                (cpuRcache.Prev, cpuRcache.Loaded) = (cpuRcache.Loaded, cpuRcache.Prev);
                hasPfn = true;
            }
            else
            {
                lock (rcache.Lock)
                {
                    if (rcache.Depot is not null)
                    {
                        IovaMagazineFree(cpuRcache.Loaded);
                        cpuRcache.Loaded = IovaDepotPopLocked(rcache);
                        hasPfn = true;
                    }
                }
            }
            return hasPfn ? cpuRcache.Loaded!.Pop(limitPfn) : 0;
        }
    }

    /// <summary>
    /// free_cpu_cached_iovas() - returns CPU <paramref name="cpu"/>'s cached ranges of every bin to the tree (the
    /// CPU-dead hook, and alloc_iova_fast's flush). Its magazines stay, empty.
    /// </summary>
    public void FreeCpuCachedIovas(int cpu)
    {
        EnsureLive();
        CheckCpu(cpu);
        foreach (var rcache in Rcaches("free_cpu_cached_iovas"))
        {
            var cpuRcache = CpuRcacheOf(rcache, cpu);
            lock (cpuRcache.Lock)
            {
                IovaMagazineFreePfns(Deref(cpuRcache.Loaded));
                IovaMagazineFreePfns(Deref(cpuRcache.Prev));
            }
        }
    }

    /// <summary>free_global_cached_iovas() - empties every bin's depot into the tree and frees its magazines.</summary>
    public void FreeGlobalCachedIovas()
    {
        EnsureLive();
        foreach (var rcache in Rcaches("free_global_cached_iovas"))
        {
            lock (rcache.Lock)
            {
                while (rcache.Depot is not null)
                {
                    var mag = IovaDepotPopLocked(rcache);
                    IovaMagazineFreePfns(mag);
                    IovaMagazineFree(mag);
                }
            }
        }
    }

    // iova_magazine_free_pfns(): each cached pfn's node leaves the tree; a pfn with no node is WARNed and skipped.
    private void IovaMagazineFreePfns(IovaMagazine mag)
    {
        lock (_iovaRbtreeLock)
        {
            for (var i = 0; i < mag.Size; i++)
            {
                var iova = PrivateFindIovaLocked(mag.Pfns[i]);
                if (iova is null || iova == _anchor)
                {
                    WarnOn(IovaWarning.MagazinePfnNotInTree);
                    continue;
                }
                RemoveIovaLocked(iova);
                FreeIovaMem(iova);
            }
        }
        mag.Size = 0;
    }

    // iova_depot_pop(): the kernel rewrites the size (the union's other half) as full.
    private static IovaMagazine IovaDepotPopLocked(IovaRcache rcache)
    {
        AssertHeld(rcache.Lock, "rcache->lock");
        var mag = rcache.Depot!;
        rcache.Depot = mag.Next;
        mag.Next = null;
        mag.Size = IovaMagazine.IovaMagSize;
        rcache.DepotSize--;
        return mag;
    }

    // iova_depot_push()
    private static void IovaDepotPushLocked(IovaRcache rcache, IovaMagazine mag)
    {
        AssertHeld(rcache.Lock, "rcache->lock");
        mag.Next = rcache.Depot;
        rcache.Depot = mag;
        rcache.DepotSize++;
    }

    // iovad->rcaches, dereferenced: NULL (init never ran or failed) is the kernel's oops.
    private IovaRcache[] Rcaches(string caller) =>
        _rcaches ?? throw new IovaOopsException($"{caller} dereferences iovad->rcaches, which is NULL (iova_domain_init_rcaches failed or never ran)");

    // per_cpu_ptr(rcache->cpu_rcaches, cpu)
    private static IovaCpuRcache CpuRcacheOf(IovaRcache rcache, int cpu) =>
        (rcache.CpuRcaches ?? throw new IovaOopsException($"bin {rcache.Bin}'s cpu_rcaches is NULL"))[cpu];

    private static IovaMagazine Deref(IovaMagazine? mag) =>
        mag ?? throw new IovaOopsException("a per-CPU magazine pointer is NULL");

    private void CheckCpu(int cpu)
    {
        if ((uint)cpu >= (uint)Cpus) throw new ArgumentOutOfRangeException(nameof(cpu), cpu, $"the machine has CPUs 0..{Cpus - 1}");
    }

    // roundup_pow_of_two(), for 1 ≤ n < 32 here.
    private static ulong RoundupPowOfTwo(ulong n) => 1UL << FlsLong(n - 1);
}
