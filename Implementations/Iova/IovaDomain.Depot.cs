using IommuConformance.Contract;

namespace IommuConformance.Implementations.Iova;

/// <summary>
/// The depot-trim delayed work (iova_depot_work_func, IOVA_DEPOT_DELAY = 100 ms) on an emulated clock: time moves
/// only by <see cref="Tick"/> or <see cref="AdvanceTo"/>, which run every work that falls due, in due order (ties
/// by bin), each at its own due time, so a long tick trims as many magazines as the kernel's timer would.
/// </summary>
public sealed partial class IovaDomain
{
    /// <summary>IOVA_DEPOT_DELAY in ms.</summary>
    public const long IovaDepotDelayMs = 100;

    private readonly Lock _workqueueLock = new();   // the workqueue's own lock around each work's pending state

    /// <summary>The emulated clock, in ms since the domain was made.</summary>
    public long NowMs { get; private set; }

    /// <summary>Advances the clock by <paramref name="ms"/> (≥ 0) and runs the depot work that falls due; else -EINVAL.</summary>
    public Errno Tick(long ms)
    {
        if (ms < 0 || ms > long.MaxValue - NowMs) return Errno.EINVAL;
        return AdvanceTo(NowMs + ms);
    }

    /// <summary>Moves the clock to <paramref name="nowMs"/> (not backwards: -EINVAL), running due depot work on the way.</summary>
    public Errno AdvanceTo(long nowMs)
    {
        if (nowMs < NowMs) return Errno.EINVAL;   // after put_iova_domain nothing is pending: time just moves
        while (NextDueWork(nowMs) is { } rcache)
        {
            lock (_workqueueLock)
            {
                NowMs = rcache.WorkDueMs!.Value;
                rcache.WorkDueMs = null;   // a running work is no longer pending: it may queue itself again
            }
            IovaDepotWorkFunc(rcache);
        }
        NowMs = nowMs;
        return Errno.OK;
    }

    // iova_depot_work_func(): one magazine back to the tree per run, while the depot holds more than one per CPU.
    private void IovaDepotWorkFunc(IovaRcache rcache)
    {
        IovaMagazine? mag = null;
        lock (rcache.Lock)
            if (rcache.DepotSize > Cpus) mag = IovaDepotPopLocked(rcache);   // num_online_cpus()
        if (mag is null) return;
        IovaMagazineFreePfns(mag);
        IovaMagazineFree(mag);
        ScheduleDelayedWork(rcache);
    }

    // schedule_delayed_work(&rcache->work, IOVA_DEPOT_DELAY): a no-op while the work is already pending.
    private void ScheduleDelayedWork(IovaRcache rcache)
    {
        lock (_workqueueLock) rcache.WorkDueMs ??= NowMs + IovaDepotDelayMs;
    }

    // cancel_delayed_work_sync()
    private void CancelDelayedWorkSync(IovaRcache rcache)
    {
        lock (_workqueueLock) rcache.WorkDueMs = null;
    }

    private IovaRcache? NextDueWork(long nowMs)
    {
        lock (_workqueueLock)
        {
            IovaRcache? next = null;
            foreach (var rcache in _rcaches ?? [])
                if (rcache.WorkDueMs is { } due && due <= nowMs && (next is null || due < next.WorkDueMs))
                    next = rcache;
            return next;
        }
    }
}
