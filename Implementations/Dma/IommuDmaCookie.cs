using IommuConformance.Implementations.Iova;

namespace IommuConformance.Implementations.Dma;

/// <summary>
/// struct iommu_dma_cookie of type IOMMU_DMA_IOVA_COOKIE: the IOVA domain (start_pfn ≠ 0 ⇔ <see cref="Iovad"/> is
/// set), the flush queue(s) with their counters and timer, <c>fq_domain</c> (non-null ⇔ lazy unmap is on), the
/// options chosen at init, and the mutex that serialises <c>iommu_dma_init_domain</c>.
/// </summary>
public sealed class IommuDmaCookie
{
    /// <summary>cookie->mutex.</summary>
    public Lock Mutex { get; } = new();

    /// <summary>The embedded iova_domain once init_iova_domain() ran (start_pfn ≠ 0), else null.</summary>
    public IovaDomain? Iovad { get; set; }

    /// <summary>The queues: one (single FQ) or one per CPU; null while no flush queue was set up.</summary>
    public IovaFq[]? Fq { get; set; }

    /// <summary>options.qt: IOMMU_DMA_OPTS_SINGLE_QUEUE (shadow_on_flush hardware).</summary>
    public bool SingleQueue { get; set; }

    /// <summary>options.fq_size.</summary>
    public int FqSize { get; set; } = IommuDma.IovaDefaultFqSize;

    /// <summary>options.fq_timeout, ms.</summary>
    public long FqTimeoutMs { get; set; } = IommuDma.IovaDefaultFqTimeoutMs;

    /// <summary>Flushes started.</summary>
    public long FqFlushStartCnt { get; set; }

    /// <summary>Flushes finished.</summary>
    public long FqFlushFinishCnt { get; set; }

    /// <summary>fq_timer: its due time while pending (timer_pending), else null.</summary>
    public long? FqTimerDueMs { get; set; }

    /// <summary>fq_timer_on: set by the first queue_iova after a timeout, cleared by the timeout.</summary>
    public bool FqTimerOn { get; set; }

    /// <summary>fq_domain: the domain whose IOTLB the flush queue flushes; non-null ⇔ lazy unmap.</summary>
    public Drivers.PagingDomain? FqDomain { get; set; }

    /// <summary>Reserved regions (first and last byte) whose reserve_iova() returned NULL: left unreserved, as in the kernel.</summary>
    public List<(ulong Start, ulong Last)> FailedReservations { get; } = [];

    /// <summary>Set by iommu_put_dma_cookie(): the cookie is freed memory.</summary>
    public bool Freed { get; set; }

    /// <summary>IOTLB flushes of the whole domain the flush queue issued (benchmarks, tests).</summary>
    public long FqFlushes { get; set; }
}
