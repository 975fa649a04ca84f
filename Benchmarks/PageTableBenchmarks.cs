using BenchmarkDotNet.Attributes;
using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Benchmarks;

/// <summary>
/// Cost per page (4 KiB; 64 KiB on the 64K granule) of map + hardware walk + unmap on each page-table format, over emulated memory (the
/// gather synced after every unmap, as a strict-mode driver would). Pages are spread over 2 MiB so that the
/// table walk is the warm steady state, not table allocation.
/// </summary>
[MemoryDiagnoser]
public class PageTableBenchmarks
{
    private const int Pages = 512;
    private const ulong Page = 4096;

    [Params("arm-s1-4K", "arm-s2-64K", "vtdss-48", "mock-2K", "virtio-48")]
    public string Format { get; set; } = "arm-s1-4K";

    private IIoPgtableOps _ops = null!;
    private readonly IotlbGather _gather = new();
    private ulong _base;
    private ulong _step = Page;   // the 64K-granule table's smallest page is 64 KiB

    [GlobalSetup]
    public void Setup()
    {
        var alloc = new FrameAllocator(new PhysicalMemory());
        _base = 0x4000_0000;
        switch (Format)
        {
            case "arm-s1-4K":
                ArmLpaePgtable.Create(new ArmLpaeConfig(ArmLpaeStage.Stage1, 4096, 48, 48), alloc, out var a1);
                _ops = a1!;
                break;
            case "arm-s2-64K":
                ArmLpaePgtable.Create(new ArmLpaeConfig(ArmLpaeStage.Stage2, 65536, 48, 48), alloc, out var a2);
                _ops = a2!;
                break;
            case "vtdss-48":
                VtdssPgtable.Create(alloc, out var v);
                _ops = v!;
                break;
            case "mock-2K":
                MockPgtable.Create(alloc, out var m);
                _ops = m!;
                break;
            default:
                _ops = new VirtioPgtable(48);
                break;
        }
        _step = Format == "arm-s2-64K" ? 65536UL : Page;
        // Warm the tables once so the measured loop does not allocate them.
        if (IommuMapping.Map(_ops, _base, 0x10_0000_0000, _step, IommuProt.Read | IommuProt.Write, _gather) != Errno.OK)
            throw new InvalidOperationException("warm-up map failed");
        IommuMapping.Unmap(_ops, _base, _step, _gather);
        _gather.FreePages();
        _gather.Reset();
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong Map_walk_unmap_per_4K_page()
    {
        ulong sum = 0;
        var step = _step;
        for (ulong i = 0; i < Pages; i++)
        {
            var iova = _base + i * step % 0x20_0000;
            IommuMapping.Map(_ops, iova, 0x10_0000_0000 + iova, step, IommuProt.Read | IommuProt.Write, _gather);
            sum += _ops.Walk(iova + 8, IommuPerm.Write).Phys;
            sum += IommuMapping.Unmap(_ops, iova, step, _gather);
            _gather.FreePages();
            _gather.Reset();
        }
        return sum;
    }
}
