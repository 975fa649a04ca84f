using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Iova;
using IommuConformance.Implementations.PageTable;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Dma;

/// <summary>
/// drivers/iommu/dma-iommu.c for one machine: the IOVA cookie of DMA domains, iommu_setup_dma_ops /
/// iommu_dma_init_domain, the map and unmap paths of the DMA API, the flush queue (IommuDma.Fq.cs) and the emulated
/// clock its timers and the IOVA depot work run on. Every allocation asks <see cref="Gate"/>. Locks: cookie->mutex
/// around init, fq->lock around each queue; the IOVA domain takes its own.
/// </summary>
public sealed partial class IommuDma(int cpus, IFaultGate gate, BugSwitches bugs, WarningLog warnings)
{
    /// <summary>DMA_MAPPING_ERROR: ~(dma_addr_t)0.</summary>
    public const ulong DmaMappingError = ulong.MaxValue;

    private const ulong Dma32BitMask = 0xffff_ffffUL;

    public int Cpus => cpus;

    public IFaultGate Gate => gate;

    /// <summary>The emulated clock (ms); it moves only by <see cref="Tick"/>.</summary>
    public long NowMs { get; private set; }

    // Cookies whose flush-queue timer or IOVA depot work may run: every cookie until it is put (and, with the
    // seeded bug fq_timer_after_free, a freed one whose timer was left pending).
    private readonly List<IommuDmaCookie> _cookies = [];

    /// <summary>Live cookies (tests, invariants, benchmarks).</summary>
    public IReadOnlyList<IommuDmaCookie> Cookies => _cookies;

    // Every IOVA domain init_iova_domain() set up and put_iova_domain() has not freed yet (the teardown audit).
    private readonly List<IovaDomain> _iovaDomains = [];

    /// <summary>IOVA domains initialised and not yet put: after a teardown, none.</summary>
    public IReadOnlyList<IovaDomain> LiveIovaDomains => _iovaDomains;

    // Every IOVA domain ever initialised on this machine (the audit checks each put one gave its memory back).
    private readonly List<IovaDomain> _allIovaDomains = [];

    /// <summary>Every IOVA domain this machine initialised, put or not.</summary>
    public IReadOnlyList<IovaDomain> AllIovaDomains => _allIovaDomains;

    private void PutIovaDomain(IovaDomain iovad)
    {
        iovad.PutIovaDomain();
        _iovaDomains.Remove(iovad);
    }

    /// <summary>iommu_get_dma_cookie() - give a DMA domain its IOVA cookie (-EEXIST if it has one).</summary>
    public Errno GetDmaCookie(IommuDomain domain)
    {
        if (domain.IovaCookie is not null) return EEXIST;
        domain.IovaCookie = new IommuDmaCookie();
        _cookies.Add(domain.IovaCookie);
        return OK;
    }

    /// <summary>iommu_put_dma_cookie() - at domain free: the flush queue goes (timer first), then the IOVA domain.</summary>
    public void PutDmaCookie(IommuDomain domain)
    {
        if (domain.IovaCookie is not { } cookie) return;
        FreeFq(cookie);
        if (cookie.Iovad is { } iovad) PutIovaDomain(iovad);
        cookie.Freed = true;
        domain.IovaCookie = null;
        // Seeded bug fq_timer_after_free: del_timer() without _sync left the timer pending on the freed cookie.
        if (cookie.FqTimerDueMs is null) _cookies.Remove(cookie);
    }

    /// <summary>
    /// iommu_setup_dma_ops() - PCI devices re-arm the 32-bit-first workaround; a DMA domain gets iommu DMA ops if
    /// iommu_dma_init_domain() succeeds ("retaining platform DMA ops" otherwise); any other domain removes them.
    /// </summary>
    public void SetupDmaOps(Device dev, IommuDomain domain) => SetupDmaOps(dev, domain, racedCheck: false);

    /// <summary>
    /// The iommu_setup_dma_ops() of every member of a group, at the end of a bus probe. With the seeded bug
    /// no_cookie_mutex the members' set-ups run as the concurrent dma_configure() calls of the bug's era did, in their
    /// worst interleaving (docs/seeded-bugs.md, 31): every member checks start_pfn before any of them initialises, so
    /// each initialises the IOVA domain again over the last one's (whose memory is lost).
    /// </summary>
    public void SetupGroupDmaOps(IReadOnlyList<Device> devs, IommuDomain domain)
    {
        if (!bugs.IsOn(BugCatalogue.NoCookieMutex) || devs.Count < 2 || !domain.Type.IsDma())
        {
            foreach (var dev in devs) SetupDmaOps(dev, domain, racedCheck: false);
            return;
        }
        // Seeded bug no_cookie_mutex: the start_pfn checks of all members, then each one's initialisation.
        var sawStartPfnZero = devs.Select(_ => domain.IovaCookie is { Iovad: null }).ToList();
        for (var i = 0; i < devs.Count; i++) SetupDmaOps(devs[i], domain, sawStartPfnZero[i]);
    }

    // racedCheck: the start_pfn check already ran (and saw 0) before another device's initialisation (no_cookie_mutex).
    private void SetupDmaOps(Device dev, IommuDomain domain, bool racedCheck)
    {
        var devIommu = dev.Iommu!;
        // Seeded bug rollover_never_rearmed: only the first setup arms the workaround.
        if (dev.Spec.Bus == BusNames.Pci && (!devIommu.DmaSetupRan || !bugs.IsOn(BugCatalogue.RolloverNeverRearmed)))
            devIommu.Pci32BitWorkaround = true;   // !iommu_dma_forcedac
        devIommu.DmaSetupRan = true;
        devIommu.DmaIommu = domain.Type.IsDma();
        if (devIommu.DmaIommu && InitDomain(domain, dev, racedCheck) != OK)
        {
            warnings.Warn(Warn.DmaSetupFailed);
            devIommu.DmaIommu = false;
        }
    }

    /// <summary>
    /// iommu_dma_init_domain() - granule = the smallest page size, base pfn 1 (IOVA 0 is never handed out) raised to
    /// the aperture start; an initialised domain answers 0 for the same granule and base, -EFAULT otherwise; the first
    /// device initialises the IOVA domain and its rcaches (-ENOMEM: the IOVA domain is torn down again, so the next
    /// device retries), chooses the queue options, sets up the flush queue for DMA-FQ (silently strict without
    /// IOMMU_CAP_DEFERRED_FLUSH or when the queue cannot be allocated), and reserves the device's regions.
    /// </summary>
    public Errno InitDomain(IommuDomain domain, Device dev) => InitDomain(domain, dev, racedCheck: false);

    private Errno InitDomain(IommuDomain domain, Device dev, bool racedCheck)
    {
        if (domain.IovaCookie is not { } cookie || domain is not PagingDomain paging) return EINVAL;
        var order = System.Numerics.BitOperations.TrailingZeroCount(paging.Pgtable.PgsizeBitmap);
        var granule = 1UL << order;
        var apertureEnd = paging.Pgtable.Ias >= 64 ? ulong.MaxValue : (1UL << paging.Pgtable.Ias) - 1;
        var basePfn = 1UL;
        if (basePfn > apertureEnd >> order) return EFAULT;   // "specified DMA range outside IOMMU capability"

        // Seeded bug no_cookie_mutex: the start_pfn check ran before another device's init_iova_domain (SetupGroupDmaOps).
        if (racedCheck) return InitIovaDomainLocked(cookie, paging, dev, granule, basePfn);
        lock (cookie.Mutex)
        {
            if (cookie.Iovad is { } iovad)
            {
                if (iovad.Granule != granule || iovad.StartPfn != basePfn)
                {
                    warnings.Warn(Warn.DmaInitIncompatible);
                    return EFAULT;
                }
                return OK;
            }
            return InitIovaDomainLocked(cookie, paging, dev, granule, basePfn);
        }
    }

    // The part of iommu_dma_init_domain() after the start_pfn check, cookie->mutex held; the gate's lines name dev.
    private Errno InitIovaDomainLocked(IommuDmaCookie cookie, PagingDomain domain, Device dev, ulong granule, ulong basePfn)
    {
        var reporting = gate as ReportingGate;
        var outer = reporting?.SetupDevice;
        if (reporting is not null) reporting.SetupDevice = dev.Name;
        try
        {
            return InitIovaDomainNamed(cookie, domain, dev, granule, basePfn);
        }
        finally
        {
            if (reporting is not null) reporting.SetupDevice = outer;
        }
    }

    private Errno InitIovaDomainNamed(IommuDmaCookie cookie, PagingDomain domain, Device dev, ulong granule, ulong basePfn)
    {
        // init_iova_domain(). Over an initialised domain (no_cookie_mutex) the kernel resets the same struct: the old
        // tree's nodes and rcaches are lost, as the old object is here (it is never put: LiveIovaDomains).
        var iovad = new IovaDomain(granule, basePfn, cpus, gate)
        {
            IgnoreMagazineFailure = bugs.IsOn(BugCatalogue.MagazineUseAfterFailedAlloc),
            NoOverflowGuard = bugs.IsOn(BugCatalogue.AllocIovaNoOverflowGuard),
            UnalignedFastAlloc = bugs.IsOn(BugCatalogue.FastAllocUnaligned),
        };
        iovad.AdvanceTo(NowMs);
        cookie.Iovad = iovad;
        _iovaDomains.Add(iovad);
        _allIovaDomains.Add(iovad);
        var ret = iovad.InitRcaches();
        if (ret != OK)
        {
            // Ours (docs/dma.md): start_pfn goes back to 0, so the next device of the group initialises again. The
            // kernel leaves start_pfn set: seeded bug rcache_init_leaves_start_pfn.
            if (!bugs.IsOn(BugCatalogue.RcacheInitLeavesStartPfn))
            {
                PutIovaDomain(iovad);
                cookie.Iovad = null;
            }
            return ret;
        }
        InitOptions(cookie, dev);
        // If the FQ fails we can simply fall back to strict mode.
        // Seeded bug fq_without_deferred_flush: the capability is not consulted.
        if (domain.Type == DomainType.DmaFq
            && ((!dev.Iommu!.IommuDev.Ops.Capable(dev, IommuCap.DeferredFlush) && !bugs.IsOn(BugCatalogue.FqWithoutDeferredFlush))
                || InitFq(domain) != OK))
            domain.Type = DomainType.Dma;
        return ReserveIommuRegions(cookie, dev, iovad);
    }

    // iommu_dma_init_options(): shadowing IOMMUs (virtio-iommu) flush the whole domain at once, so one big queue.
    private static void InitOptions(IommuDmaCookie cookie, Device dev)
    {
        if (dev.Iommu!.IommuDev.Spec.Driver == DriverNames.Virtio)   // dev->iommu->shadow_on_flush
        {
            cookie.SingleQueue = true;
            cookie.FqSize = IovaSingleFqSize;
            cookie.FqTimeoutMs = IovaSingleFqTimeoutMs;
        }
        else
        {
            cookie.SingleQueue = false;
            cookie.FqSize = IovaDefaultFqSize;
            cookie.FqTimeoutMs = IovaDefaultFqTimeoutMs;
        }
    }

    /// <summary>
    /// iova_reserve_iommu_regions(): the device's reserved regions that are not SW_MSI go into the IOVA domain. The
    /// emulated platforms have one: VT-d's IOAPIC/MSI window (an IOMMU_RESV_MSI region of intel_iommu_get_resv_regions);
    /// the host bridges have no windows in the IOVA space. reserve_iova()'s NULL is not checked, as in the kernel.
    /// </summary>
    private static Errno ReserveIommuRegions(IommuDmaCookie cookie, Device dev, IovaDomain iovad)
    {
        foreach (var (start, last) in ReservedRegions(dev.Iommu!.IommuDev.Spec.Driver))
            if (iovad.ReserveIova(start >> iovad.IovaShift, last >> iovad.IovaShift) is null)
                cookie.FailedReservations.Add((start, last));   // for the invariants: c.18's documented leftover
        return OK;
    }

    /// <summary>The reserved regions (first and last byte) the devices of a driver report, SW_MSI excluded.</summary>
    public static IReadOnlyList<(ulong Start, ulong Last)> ReservedRegions(string driver) =>
        driver == DriverNames.Vtd ? [(0xfee0_0000UL, 0xfeef_ffffUL)] : [];

    /// <summary>
    /// iommu_dma_map_page() → __iommu_dma_map(): the size is aligned up to granules (with the offset into the first),
    /// an IOVA is allocated below the device's limit, the range is mapped; a failed map frees the IOVA at once (never
    /// through the queue). Return: the IOVA plus the offset, or <see cref="DmaMappingError"/>. A device without iommu
    /// DMA ops maps 1:1 (dma-direct), or fails beyond its mask.
    /// </summary>
    public ulong MapPage(Device dev, ulong phys, ulong size, IommuProt prot, int cpu, ulong dmaMask)
    {
        if (size == 0)
        {
            warnings.Warn(Warn.DmaMapZeroSize);
            return DmaMappingError;
        }
        if (dev.Iommu is not { DmaIommu: true } devIommu || dev.Group?.DefaultDomain is not PagingDomain domain)
            return phys + (size - 1) >= phys && phys + (size - 1) <= dmaMask ? phys : DmaMappingError;   // dma_direct_map_phys
        var cookie = Cookie(domain);
        var iovad = cookie.Iovad ?? throw new IovaOopsException("iommu_dma_map_page: the DMA domain has no IOVA domain");
        var iovaOff = phys & (iovad.Granule - 1);
        if (size > ulong.MaxValue - iovaOff - iovad.Granule) return DmaMappingError;
        var len = IovaAlign(iovad, size + iovaOff);
        var iova = AllocIova(domain, iovad, devIommu, dev, len, dmaMask, cpu);
        if (iova == 0) return DmaMappingError;
        var ret = domain.Map(iova, phys - iovaOff, len, prot, out var pgWarnings);
        foreach (var w in pgWarnings) warnings.Warn(IommuSystem.WarnName(w));
        if (ret != OK)
        {
            iovad.FreeIovaFast(cpu, iova >> iovad.IovaShift, len >> iovad.IovaShift);
            return DmaMappingError;
        }
        return iova + iovaOff;
    }

    /// <summary>
    /// iommu_dma_alloc_iova(): limit = min(mask, aperture end); a PCI device with the workaround armed tries below
    /// 4 GiB first (no rcache flush); if that fails the workaround is cleared until the next iommu_setup_dma_ops()
    /// ("Using N-bit DMA addresses") and the full limit is tried with the rcache flush. 0 for failure.
    /// </summary>
    private ulong AllocIova(PagingDomain domain, IovaDomain iovad, DevIommu devIommu, Device dev, ulong len, ulong dmaLimit, int cpu)
    {
        var shift = iovad.IovaShift;
        var iovaLen = len >> shift;
        var apertureEnd = domain.Pgtable.Ias >= 64 ? ulong.MaxValue : (1UL << domain.Pgtable.Ias) - 1;
        dmaLimit = Math.Min(dmaLimit, apertureEnd);   // force_aperture
        if (dmaLimit > Dma32BitMask && devIommu.Pci32BitWorkaround)
        {
            var pfn = iovad.AllocIovaFast(cpu, iovaLen, Dma32BitMask >> shift, flushRcache: false);
            if (pfn != 0) return pfn << shift;
            devIommu.Pci32BitWorkaround = false;
            warnings.Warn(Warn.Dma32BitRollover);
        }
        return iovad.AllocIovaFast(cpu, iovaLen, dmaLimit >> shift, flushRcache: true) << shift;
    }

    /// <summary>
    /// iommu_dma_unmap_page() → __iommu_dma_unmap(): unmap without sync into a gather (WARN if fewer bytes came back);
    /// strict: sync the IOTLB, then free the IOVA; lazy (fq_domain set): queue the IOVA with the gather's table pages,
    /// the IOTLB still holding the old translation until the queue's flush. A device without iommu DMA ops: nothing.
    /// </summary>
    public void UnmapPage(Device dev, ulong dmaAddr, ulong size, int cpu)
    {
        if (dev.Iommu is not { DmaIommu: true } || dev.Group?.DefaultDomain is not PagingDomain domain) return;
        var cookie = Cookie(domain);
        var iovad = cookie.Iovad ?? throw new IovaOopsException("iommu_dma_unmap_page: the DMA domain has no IOVA domain");
        var iovaOff = dmaAddr & (iovad.Granule - 1);
        dmaAddr -= iovaOff;
        var len = IovaAlign(iovad, size + iovaOff);
        var gather = new IotlbGather();
        var queued = cookie.FqDomain is not null;
        var unmapped = domain.UnmapFast(dmaAddr, len, gather, out var pgWarnings);
        foreach (var w in pgWarnings) warnings.Warn(IommuSystem.WarnName(w));
        if (unmapped != len) warnings.Warn(Warn.DmaUnmapSize);
        if (!queued) domain.IotlbSyncGather(gather);
        FreeIova(cookie, iovad, dmaAddr, len, queued ? gather : null, cpu);
    }

    // iommu_dma_free_iova(): through the queue when the unmap was lazy, else straight back to the rcache.
    private void FreeIova(IommuDmaCookie cookie, IovaDomain iovad, ulong iova, ulong size, IotlbGather? queuedGather, int cpu)
    {
        var pfn = iova >> iovad.IovaShift;
        var pages = size >> iovad.IovaShift;
        if (queuedGather is not null) QueueIova(cookie, pfn, pages, queuedGather, cpu);
        // Seeded bug fq_queued_and_freed: a queued IOVA goes back to the rcache at once as well.
        if (queuedGather is null || bugs.IsOn(BugCatalogue.FqQueuedAndFreed)) iovad.FreeIovaFast(cpu, pfn, pages);
    }

    private static ulong IovaAlign(IovaDomain iovad, ulong size) => (size + iovad.Granule - 1) & ~(iovad.Granule - 1);

    private static IommuDmaCookie Cookie(IommuDomain domain) =>
        domain.IovaCookie ?? throw new IovaOopsException($"{domain}: a DMA domain without its IOVA cookie");
}
