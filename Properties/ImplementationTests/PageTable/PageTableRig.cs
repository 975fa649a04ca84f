using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.PageTable;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.PageTables;

/// <summary>Memory, allocator and one format, with the driver's part played by the test: sync every gather at once.</summary>
internal sealed class PageTableRig
{
    public PhysicalMemory Memory { get; } = new();
    public FrameAllocator Allocator { get; }
    public IIoPgtableOps Ops { get; }
    public IotlbGather Gather { get; } = new();
    public long Baseline { get; }

    private PageTableRig(Func<FrameAllocator, IIoPgtableOps> make)
    {
        Allocator = new FrameAllocator(Memory);
        Baseline = Allocator.LiveFrames;
        Ops = make(Allocator);
    }

    public static PageTableRig Arm(ArmLpaeConfig cfg) => new(a =>
    {
        Assert.Equal(Errno.OK, ArmLpaePgtable.Create(cfg, a, out var t));
        return t!;
    });

    public static PageTableRig Vtd(int vaBits = 48) => new(a =>
    {
        Assert.Equal(Errno.OK, VtdssPgtable.Create(a, out var t, vaBits));
        return t!;
    });

    public static PageTableRig Mock() => new(a =>
    {
        Assert.Equal(Errno.OK, MockPgtable.Create(a, out var t));
        return t!;
    });

    public static PageTableRig Virtio(int bits = 48) => new(_ => new VirtioPgtable(bits));

    public Errno Map(ulong iova, ulong paddr, ulong size, IommuProt prot = IommuProt.Read | IommuProt.Write)
    {
        var r = IommuMapping.Map(Ops, iova, paddr, size, prot, Gather);
        Sync();
        return r;
    }

    public ulong Unmap(ulong iova, ulong size)
    {
        var r = IommuMapping.Unmap(Ops, iova, size, Gather);
        Sync();
        return r;
    }

    public Errno MapPages(ulong iova, ulong paddr, ulong pgsize, ulong pgcount, IommuProt prot, out ulong mapped)
    {
        var r = Ops.MapPages(iova, paddr, pgsize, pgcount, prot, Gather, out mapped);
        Sync();
        return r;
    }

    public ulong UnmapPages(ulong iova, ulong pgsize, ulong pgcount = 1)
    {
        var r = Ops.UnmapPages(iova, pgsize, pgcount, Gather);
        Sync();
        return r;
    }

    /// <summary>What a driver's iotlb_sync does once its invalidation completed: free the gathered tables.</summary>
    public void Sync()
    {
        Gather.FreePages();
        Gather.Reset();
    }

    public PgtableWarning[] Warnings() => Ops.Warnings.Drain();

    /// <summary>iova_to_phys and the hardware walk answer alike at <paramref name="iova"/>.</summary>
    public ulong Translate(ulong iova)
    {
        var phys = Ops.IovaToPhys(iova);
        var walk = Ops.Walk(iova);
        if (phys == 0) Assert.False(walk.IsOk, $"{Ops.Name}: iova_to_phys(0x{iova:x}) = 0 but the walk reached 0x{walk.Phys:x}");
        else
        {
            Assert.True(walk.IsOk, $"{Ops.Name}: iova_to_phys(0x{iova:x}) = 0x{phys:x} but the walk faulted {walk.Status}");
            Assert.Equal(phys, walk.Phys);
        }
        return phys;
    }

    /// <summary>The leaves of [start, end) by walking, as (iova, size) pairs.</summary>
    public List<(ulong Iova, ulong Size)> Leaves(ulong start, ulong end)
    {
        var leaves = new List<(ulong, ulong)>();
        var min = IommuPgsize.MinPagesize(Ops.PgsizeBitmap);
        for (var iova = start; iova < end;)
        {
            var w = Ops.Walk(iova);
            if (!w.IsOk) { iova += min; continue; }
            leaves.Add((w.LeafIova, w.LeafSize));
            iova = w.LeafIova + w.LeafSize;
        }
        return leaves;
    }

    /// <summary>Teardown: every table page back, nothing left on the allocator beyond the baseline.</summary>
    public void FreeAndCheckBaseline()
    {
        Ops.Free();
        Sync();
        Assert.Equal(0, Ops.TableFrames);
        Assert.Equal(Baseline, Allocator.LiveFrames);
        Assert.Equal(0, Allocator.BadFrees);
    }

    public static IommuPerm Access(bool write) => write ? IommuPerm.Write : IommuPerm.Read;
}
