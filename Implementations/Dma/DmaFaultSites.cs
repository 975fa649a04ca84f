namespace IommuConformance.Implementations.Dma;

/// <summary>Fault-injection sites of the DMA layer (the IOVA allocator's are <see cref="Iova.IovaFaultSites"/>).</summary>
public static class DmaFaultSites
{
    /// <summary>iommu_dma_init_fq(): the queue(s) (alloc_percpu / vmalloc).</summary>
    public const string Fq = "iova_fq";

    public static readonly IReadOnlyList<string> All = [Fq];
}
