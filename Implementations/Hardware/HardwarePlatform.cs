using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware;

/// <summary>
/// The machine's shared hardware: physical memory, the frame allocator every driver takes table pages from, the
/// error log, and every IOMMU instance (a freed domain may still sit in any of them).
/// </summary>
public sealed class HardwarePlatform
{
    private readonly List<IommuHardware> _iommus = [];
    private readonly HashSet<int> _freed = [];

    public HardwarePlatform()
    {
        Allocator = new FrameAllocator(Memory);
    }

    public PhysicalMemory Memory { get; } = new();

    public FrameAllocator Allocator { get; }

    public HardwareErrorLog Errors { get; } = new();

    public IReadOnlyList<IommuHardware> Iommus => _iommus;

    public void Add(IommuHardware iommu) => _iommus.Add(iommu);

    /// <summary>Domain ids freed so far: an entry naming one is a use-after-free (tags are never reused in a machine).</summary>
    public bool IsFreed(int domainId) => _freed.Contains(domainId);

    /// <summary>ops->free hook: report every entry, on any instance, that still uses the domain.</summary>
    public void DomainFreed(IommuDomain domain)
    {
        _freed.Add(domain.Id);
        foreach (var iommu in _iommus) iommu.CheckFreed(domain.Id);
    }
}
