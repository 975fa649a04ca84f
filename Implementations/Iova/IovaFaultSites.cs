namespace IommuConformance.Implementations.Iova;

/// <summary>The allocator's fallible allocations, as <see cref="IFaultGate"/> site names (one per kernel allocation).</summary>
public static class IovaFaultSites
{
    /// <summary>alloc_iova_mem(): a struct iova for alloc_iova or reserve_iova (GFP_ATOMIC; NULL → no IOVA).</summary>
    public const string IovaNode = "iova";

    /// <summary>iova_magazine_alloc(): at rcache init (GFP_KERNEL) and when free_iova_fast needs a fresh magazine (GFP_ATOMIC).</summary>
    public const string Magazine = "iova_magazine";

    /// <summary>The kcalloc of the 6 iova_rcache bins in iova_domain_init_rcaches().</summary>
    public const string Rcaches = "iova_rcaches";

    /// <summary>The __alloc_percpu of one bin's iova_cpu_rcache array in iova_domain_init_rcaches().</summary>
    public const string CpuRcaches = "iova_cpu_rcaches";

    public static readonly IReadOnlyList<string> All = [IovaNode, Magazine, Rcaches, CpuRcaches];
}
