using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware.Smmuv3;
using IommuConformance.Implementations.Hardware.Vtd;

namespace IommuConformance.Benchmarks;

/// <summary>
/// IOTLB invalidations per <c>dma_unmap</c>, strict (DMA) against lazy (DMA-FQ), for a 10k map/unmap workload of one
/// device per driver (smmuv3, vtd, virtio): 10,000 pairs of a one-page <c>dma_map</c> and its <c>dma_unmap</c> on CPU 0,
/// with a 1 ms <c>tick</c> after every 100 pairs. The time is BenchmarkDotNet's; the counts (the hardware's invalidation
/// commands, smmuv3 and vtd; the flush queue's whole-domain flushes, every driver) are printed per unmap by
/// <see cref="Report"/> at the end of each run. Lazy should invalidate about 1/255 as often per unmap (a full queue)
/// or once per timeout, strict once per unmap.
/// </summary>
public class DmaUnmapBenchmarks
{
    private const int Pairs = 10_000;

    [Params(DriverNames.Smmuv3, DriverNames.Vtd, DriverNames.Virtio)]
    public string Driver { get; set; } = DriverNames.Smmuv3;

    [Params(DefaultDomainType.Dma, DefaultDomainType.DmaFq)]
    public DefaultDomainType Mode { get; set; }

    private IommuSystem _system = null!;
    private long _unmaps, _invalidations0, _flushes0;

    [IterationSetup]
    public void Setup()
    {
        var topology = new Topology([new IommuSpec("iommu0", Driver, IommuOptions.None)],
            [new DeviceSpec("dev0", BusNames.Pci, "iommu0", "g0")]);
        _system = IommuSystem.Create(new SystemConfig(Cpus: 2, DefaultDomain: Mode), topology, []);
        if (_system.Execute(new Probe("dev0")).Errno != Errno.OK) throw new InvalidOperationException("probe failed");
        (_unmaps, _invalidations0, _flushes0) = (0, Invalidations(), Flushes());
    }

    [Benchmark]
    public void MapUnmap10k()
    {
        for (var i = 0; i < Pairs; i++)
        {
            var outcome = _system.Execute(new DmaMap("dev0", 0x10_0000, 0x1000, DmaDirections.Bidirectional, 0));
            if (!OutcomeValues.TryNumber(outcome.Value, out var addr) || addr == DmaArgs.MappingError)
                throw new InvalidOperationException($"dma_map failed at pair {i}: {outcome}");
            _system.Execute(new DmaUnmap("dev0", addr, null, 0x1000, DmaDirections.Bidirectional, 0));
            _unmaps++;
            if (i % 100 == 99) _system.Execute(new Tick(1));
        }
    }

    [IterationCleanup]
    public void Report() =>
        Console.WriteLine($"// {Driver} {Mode}: {(Invalidations() - _invalidations0) / (double)Math.Max(1, _unmaps):F4} IOTLB invalidations "
            + $"and {(Flushes() - _flushes0) / (double)Math.Max(1, _unmaps):F4} flush-queue flushes per dma_unmap ({_unmaps} unmaps)");

    private long Invalidations() => _system.HardwareOf("iommu0") switch
    {
        Smmuv3Hardware s => s.Iotlb.Invalidations,
        VtdHardware v => v.Iotlb.Invalidations,
        _ => 0,
    };

    private long Flushes() => _system.Dma.Cookies.Sum(c => c.FqFlushes);
}
