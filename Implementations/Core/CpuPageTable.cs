using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Core;

/// <summary>
/// An mm's CPU page table (mm->pgd) in emulated memory, in the arm64 format: 4 KiB granule, 48-bit VA, four levels,
/// VMSAv8-64 stage-1 descriptors, the same format io-pgtable-arm's stage 1 writes (so it is built with
/// <see cref="ArmLpaePgtable"/>, and an SMMU CD's TTB0 points at it as arm_smmu_make_sva_cd does). The page-fault
/// path installs 4 KiB pages (<c>mm_map</c>); exit_mmap clears them; the tables go with the mm (mmdrop).
/// </summary>
public sealed class CpuPageTable
{
    private const ulong Page = 0x1000;
    private readonly ArmLpaePgtable _table;
    private readonly List<(ulong Va, ulong Size)> _vmas = [];

    private CpuPageTable(ArmLpaePgtable table) => _table = table;

    /// <summary>pgd_alloc: an empty table; -ENOMEM without a frame.</summary>
    public static Errno Create(FrameAllocator allocator, out CpuPageTable? table)
    {
        table = null;
        var r = ArmLpaePgtable.Create(new ArmLpaeConfig(ArmLpaeStage.Stage1, 4096, 48, 48), allocator, out var pgt, gated: false);
        if (r != Errno.OK) return r;
        table = new CpuPageTable(pgt!);
        return Errno.OK;
    }

    /// <summary>The table's root (TTBR0 / CR3 of the process; an SVA CD's TTB0, a first-level PASID entry's FLPTR).</summary>
    public ulong Pgd => _table.RootPhys;

    /// <summary>Whether any page of [va, va + size) is mapped.</summary>
    public bool Overlaps(ulong va, ulong size) => _vmas.Any(v => va < v.Va + v.Size && v.Va < va + size);

    /// <summary>
    /// The pages of [va, va + size) → [paddr, ...) with the rights of <paramref name="prot"/>, 4 KiB at a time (what
    /// the fault handler's set_pte_at writes). Nothing was mapped here before (the caller checked), so no TLB needs
    /// flushing: nothing not present is cached.
    /// </summary>
    public Errno Map(ulong va, ulong paddr, ulong size, IommuProt prot)
    {
        var gather = new IotlbGather();
        for (var done = 0UL; done < size;)
        {
            var r = _table.MapPages(va + done, paddr + done, Page, (size - done) / Page, prot, gather, out var mapped);
            done += mapped;
            if (r != Errno.OK) return r;
        }
        gather.FreePages();
        _vmas.Add((va, size));
        return Errno.OK;
    }

    /// <summary>exit_mmap: every page unmapped (after the secondary TLBs were told, mmu_notifier_release); tables stay until <see cref="Free"/>.</summary>
    public void Clear()
    {
        var gather = new IotlbGather();
        foreach (var (va, size) in _vmas)
            for (var done = 0UL; done < size;)
            {
                var bytes = _table.UnmapPages(va + done, Page, (size - done) / Page, gather);
                if (bytes == 0) break;
                done += bytes;
            }
        _vmas.Clear();
        gather.FreePages();
    }

    /// <summary>The last mmdrop: free_pgtables and pgd_free.</summary>
    public void Free() => _table.Free();
}
