using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Core;

/// <summary>The CPU page-table formats an mm is written in (docs/pasid-sva.md, "The mm's CPU page table").</summary>
[Flags]
public enum CpuFormats
{
    /// <summary>arm64: 4 KiB granule, 48-bit VA, VMSAv8-64 stage-1 descriptors (what an SMMU CD's TTB0 walks).</summary>
    Arm64 = 1,

    /// <summary>x86-64 4-level (what a VT-d first-level PASID entry's FLPTPTR walks).</summary>
    X86 = 2,
}

/// <summary>
/// An mm's CPU page table (mm->pgd) in emulated memory. A real process has one table in its CPU's format; a machine
/// here may mix SMMUs (arm64 walkers) and VT-d units (x86-64 walkers), so the mm keeps one table per format its
/// machine's IOMMUs walk (<see cref="CpuFormats"/>), each written by the same page-fault path and cleared by the same
/// exit. The arm64 one is io-pgtable-arm's stage-1 format, so it is built with <see cref="ArmLpaePgtable"/> and an
/// SMMU CD's TTB0 points at it as arm_smmu_make_sva_cd does; the x86-64 one is <see cref="X86CpuPgtable"/>. Neither
/// encoding is derived from the other: a walker that misreads a bit of its own format shows.
/// The page-fault path installs 4 KiB pages (<c>mm_map</c>); exit_mmap clears them; the tables go with the mm (mmdrop).
/// </summary>
public sealed class CpuPageTable
{
    private const ulong Page = 0x1000;
    private readonly ArmLpaePgtable? _arm;
    private readonly X86CpuPgtable? _x86;
    private readonly List<(ulong Va, ulong Size)> _vmas = [];

    private CpuPageTable(ArmLpaePgtable? arm, X86CpuPgtable? x86)
    {
        _arm = arm;
        _x86 = x86;
    }

    /// <summary>pgd_alloc of each format in <paramref name="formats"/> (at least one); -ENOMEM without a frame (nothing kept).</summary>
    public static Errno Create(FrameAllocator allocator, CpuFormats formats, out CpuPageTable? table)
    {
        table = null;
        ArmLpaePgtable? arm = null;
        X86CpuPgtable? x86 = null;
        if ((formats & CpuFormats.Arm64) != 0 || formats == 0)
        {
            var r = ArmLpaePgtable.Create(new ArmLpaeConfig(ArmLpaeStage.Stage1, 4096, 48, 48), allocator, out arm, gated: false);
            if (r != Errno.OK) return r;
        }
        if ((formats & CpuFormats.X86) != 0 && X86CpuPgtable.Create(allocator, out x86) is var rx && rx != Errno.OK)
        {
            arm?.Free();
            return rx;
        }
        table = new CpuPageTable(arm, x86);
        return Errno.OK;
    }

    /// <summary>The arm64 table's root (TTBR0 of the process; an SVA CD's TTB0).</summary>
    public ulong Pgd => _arm?.RootPhys ?? throw new InvalidOperationException("this mm has no arm64 page table (its machine has no SMMU)");

    /// <summary>The x86-64 table's root (CR3 of the process; a first-level PASID entry's FLPTPTR), or null without one.</summary>
    public ulong? X86Pgd => _x86?.Root;

    /// <summary>Whether any page of [va, va + size) is mapped.</summary>
    public bool Overlaps(ulong va, ulong size) => _vmas.Any(v => va < v.Va + v.Size && v.Va < va + size);

    /// <summary>
    /// The pages of [va, va + size) → [paddr, ...) with the rights of <paramref name="prot"/>, 4 KiB at a time (what
    /// the fault handler's set_pte_at writes), in every format. Nothing was mapped here before (the caller checked), so
    /// no TLB needs flushing: nothing not present is cached.
    /// </summary>
    public Errno Map(ulong va, ulong paddr, ulong size, IommuProt prot)
    {
        if (_arm is { } arm)
        {
            var gather = new IotlbGather();
            for (var done = 0UL; done < size;)
            {
                var r = arm.MapPages(va + done, paddr + done, Page, (size - done) / Page, prot, gather, out var mapped);
                done += mapped;
                if (r != Errno.OK) return r;
            }
            gather.FreePages();
        }
        if (_x86 is { } x86)
            for (var done = 0UL; done < size; done += Page)
                if (x86.MapPage(va + done, paddr + done, prot) is var r && r != Errno.OK) return r;
        _vmas.Add((va, size));
        return Errno.OK;
    }

    /// <summary>exit_mmap: every page unmapped in every format; tables stay until <see cref="Free"/>.</summary>
    public void Clear()
    {
        var gather = new IotlbGather();
        foreach (var (va, size) in _vmas)
        {
            if (_arm is { } arm)
                for (var done = 0UL; done < size;)
                {
                    var bytes = arm.UnmapPages(va + done, Page, (size - done) / Page, gather);
                    if (bytes == 0) break;
                    done += bytes;
                }
            if (_x86 is { } x86)
                for (var done = 0UL; done < size; done += Page) x86.UnmapPage(va + done);
        }
        _vmas.Clear();
        gather.FreePages();
    }

    /// <summary>The last mmdrop: free_pgtables and pgd_free.</summary>
    public void Free()
    {
        _arm?.Free();
        _x86?.Free();
    }
}
