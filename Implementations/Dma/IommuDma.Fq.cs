using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Iova;
using IommuConformance.Implementations.PageTable;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Dma;

/// <summary>
/// The flush queue of dma-iommu.c: lazy unmaps park their IOVA (and unlinked table pages) in a ring; a whole-domain
/// IOTLB flush (fq_flush_iotlb: start_cnt++, flush_iotlb_all, finish_cnt++) runs when a ring is full or when the timer
/// expires, and an entry is freed only once a flush that started after it was queued has finished
/// (<c>counter &lt; finish_cnt</c>).
/// </summary>
public sealed partial class IommuDma
{
    /// <summary>IOVA_DEFAULT_FQ_SIZE: entries per CPU queue.</summary>
    public const int IovaDefaultFqSize = 256;

    /// <summary>IOVA_DEFAULT_FQ_TIMEOUT, ms.</summary>
    public const long IovaDefaultFqTimeoutMs = 10;

    /// <summary>IOVA_SINGLE_FQ_SIZE: the one queue of shadow_on_flush hardware.</summary>
    public const int IovaSingleFqSize = 32768;

    /// <summary>IOVA_SINGLE_FQ_TIMEOUT, ms.</summary>
    public const long IovaSingleFqTimeoutMs = 1000;

    /// <summary>
    /// iommu_dma_init_fq() - 0 if the queue is already up; else allocate the queue(s) (-ENOMEM with "iova flush queue
    /// initialization failed"), reset the counters and the timer, and publish fq_domain last.
    /// </summary>
    public Errno InitFq(PagingDomain domain)
    {
        var cookie = Cookie(domain);
        if (cookie.FqDomain is not null) return OK;
        if (gate.ShouldFail(DmaFaultSites.Fq))
        {
            warnings.Warn(Warn.IovaFqInitFailed);
            return ENOMEM;
        }
        var queues = cookie.SingleQueue ? 1 : cpus;
        cookie.Fq = [.. Enumerable.Range(0, queues).Select(_ => new IovaFq(cookie.FqSize))];
        cookie.FqFlushStartCnt = 0;
        cookie.FqFlushFinishCnt = 0;
        cookie.FqTimerOn = false;
        cookie.FqTimerDueMs = null;
        cookie.FqDomain = domain;
        return OK;
    }

    /// <summary>
    /// iommu_dma_free_fq() - del_timer_sync(), then every queued entry's table pages go (the IOVAs go with
    /// put_iova_domain()). Seeded bug fq_timer_after_free: the timer is left pending.
    /// </summary>
    private void FreeFq(IommuDmaCookie cookie)
    {
        if (cookie.Fq is not { } queues) return;
        if (!bugs.IsOn(BugCatalogue.FqTimerAfterFree)) cookie.FqTimerDueMs = null;
        foreach (var fq in queues)
            foreach (var entry in fq.Queued())
                entry.Freelist?.FreePages();
        cookie.Fq = null;
        cookie.FqDomain = null;
    }

    // queue_iova(): the caller's CPU queue (or the single one); free what earlier flushes covered; if still full,
    // flush now and free again; append with the current start count; arm the timer if it is not on.
    private void QueueIova(IommuDmaCookie cookie, ulong pfn, ulong pages, IotlbGather freelist, int cpu)
    {
        var fq = cookie.Fq![cookie.SingleQueue ? 0 : cpu];
        lock (fq.Lock)
        {
            // First remove all entries from the flush queue that have already been flushed out on another CPU.
            FqRingFreeLocked(cookie, fq, cpu);
            if (fq.Full)
            {
                FqFlushIotlb(cookie);
                FqRingFreeLocked(cookie, fq, cpu);
            }
            var idx = fq.Tail;
            fq.Tail = (idx + 1) & fq.ModMask;
            var entry = fq.Entry(idx);
            entry.IovaPfn = pfn;
            entry.Pages = pages;
            entry.Freelist = freelist;
            // Seeded bug fq_free_before_flush: stamped with the finish count, so the next free takes it unflushed.
            entry.Counter = bugs.IsOn(BugCatalogue.FqFreeBeforeFlush) ? cookie.FqFlushFinishCnt - 1 : cookie.FqFlushStartCnt;
        }
        // Avoid false sharing as much as possible.
        if (!cookie.FqTimerOn)
        {
            cookie.FqTimerOn = true;
            cookie.FqTimerDueMs = NowMs + cookie.FqTimeoutMs;   // mod_timer(jiffies + timeout)
        }
    }

    // fq_ring_free_locked(): from the head, every entry a finished flush covers: its table pages, then its IOVA.
    private static void FqRingFreeLocked(IommuDmaCookie cookie, IovaFq fq, int cpu)
    {
        if (!fq.Lock.IsHeldByCurrentThread) throw new InvalidOperationException("fq_ring_free_locked: fq->lock not held");
        var iovad = cookie.Iovad!;
        var counter = cookie.FqFlushFinishCnt;
        while (fq.Head != fq.Tail)
        {
            var entry = fq.Entry(fq.Head);
            if (entry.Counter >= counter) break;
            entry.Freelist?.FreePages();
            entry.Freelist = null;
            iovad.FreeIovaFast(cpu, entry.IovaPfn, entry.Pages);
            fq.Head = (fq.Head + 1) & fq.ModMask;
        }
    }

    // fq_flush_iotlb(): the counters bracket the flush of the whole domain.
    private static void FqFlushIotlb(IommuDmaCookie cookie)
    {
        cookie.FqFlushStartCnt++;
        cookie.FqDomain!.FlushIotlbAll();
        cookie.FqFlushes++;
        cookie.FqFlushFinishCnt++;
    }

    // fq_flush_timeout(): timer off, flush, then free what that covers on every queue (each under its lock; the
    // kernel frees on the CPU whose queue it is, here as CPU index for the rcache).
    private void FqFlushTimeout(IommuDmaCookie cookie)
    {
        if (cookie.Freed) throw new IovaOopsException("fq_flush_timeout: the timer ran on a freed cookie");
        cookie.FqTimerOn = false;
        FqFlushIotlb(cookie);
        for (var q = 0; q < cookie.Fq!.Length; q++)
        {
            var fq = cookie.Fq[q];
            lock (fq.Lock) FqRingFreeLocked(cookie, fq, q);
        }
    }

    /// <summary>
    /// Advances the clock by <paramref name="ms"/> (negative → -EINVAL): every flush-queue timer and IOVA depot work
    /// that falls due runs at its own due time, in time order (ties: the cookie made first).
    /// </summary>
    public Errno Tick(long ms)
    {
        if (ms < 0 || ms > long.MaxValue / 2 - NowMs) return EINVAL;
        var target = NowMs + ms;
        while (true)
        {
            IommuDmaCookie? next = null;
            foreach (var c in _cookies)
                if (c.FqTimerDueMs is { } due && due <= target && (next is null || due < next.FqTimerDueMs)) next = c;
            if (next is null) break;
            var at = next.FqTimerDueMs!.Value;
            AdvanceIovads(at);
            NowMs = at;
            next.FqTimerDueMs = null;
            FqFlushTimeout(next);
        }
        AdvanceIovads(target);
        NowMs = target;
        return OK;
    }

    private void AdvanceIovads(long to)
    {
        foreach (var c in _cookies)
            if (!c.Freed) c.Iovad?.AdvanceTo(to);
    }
}
