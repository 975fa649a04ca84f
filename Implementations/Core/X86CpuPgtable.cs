using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.Hardware.Vtd;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Core;

/// <summary>
/// A process's page table in the x86-64 4-level format (arch/x86: pgd → pud → pmd → pte, p4d folded; 9 bits a level,
/// 4 KiB leaves), as the CPU and a VT-d first-level walk read it (FLPTPTR = mm->pgd, FLPM 0). Tables carry _PAGE_TABLE
/// (P, R/W, U/S, A, D: the rights are decided at the leaf); a leaf carries P, U/S, A, XD (data pages are not
/// executable), and R/W + D when writable: set_pte_at of a touched user page. Table frames stay until <see cref="Free"/>
/// (free_pgtables at the last mmdrop); they ask no fault gate (they are the mm's, not the IOMMU's).
/// </summary>
public sealed class X86CpuPgtable
{
    private const ulong Accessed = 1UL << 5, Dirty = 1UL << 6;
    private const ulong TableFlags = X86Pte.P | X86Pte.Rw | X86Pte.Us | Accessed | Dirty;   // _PAGE_TABLE
    private readonly FrameAllocator _allocator;
    private readonly PhysicalMemory _mem;
    private readonly List<ulong> _frames = [];

    private X86CpuPgtable(FrameAllocator allocator, ulong root)
    {
        _allocator = allocator;
        _mem = allocator.Memory;
        Root = root;
        _frames.Add(root);
    }

    /// <summary>pgd_alloc: one zeroed page; -ENOMEM without a frame.</summary>
    public static Errno Create(FrameAllocator allocator, out X86CpuPgtable? table)
    {
        table = null;
        if (allocator.Alloc(0, out var root) != Errno.OK) return Errno.ENOMEM;
        table = new X86CpuPgtable(allocator, root);
        return Errno.OK;
    }

    /// <summary>CR3's page (mm->pgd).</summary>
    public ulong Root { get; }

    /// <summary>One 4 KiB user page (handle_mm_fault → __pte_alloc etc. → set_pte_at); EEXIST for a present leaf.</summary>
    public Errno MapPage(ulong va, ulong pa, IommuProt prot)
    {
        var table = Root;
        for (var level = 3; level > 0; level--)
        {
            var at = table + ((va >> (12 + 9 * level)) & 511) * 8;
            var pte = _mem.Read(at);
            if ((pte & X86Pte.P) == 0)
            {
                if (_allocator.Alloc(0, out var next) != Errno.OK) return Errno.ENOMEM;
                _frames.Add(next);
                pte = (next & X86Pte.AddrMask) | TableFlags;
                _mem.Write(at, pte);
            }
            table = pte & X86Pte.AddrMask;
        }
        var leafAt = table + ((va >> 12) & 511) * 8;
        if ((_mem.Read(leafAt) & X86Pte.P) != 0) return Errno.EEXIST;
        var leaf = (pa & X86Pte.AddrMask) | X86Pte.P | X86Pte.Us | Accessed | X86Pte.Xd;
        if ((prot & IommuProt.Write) != 0) leaf |= X86Pte.Rw | Dirty;
        _mem.Write(leafAt, leaf);
        return Errno.OK;
    }

    /// <summary>zap_pte_range of one page: the leaf cleared (a missing table or leaf is nothing to clear).</summary>
    public void UnmapPage(ulong va)
    {
        var table = Root;
        for (var level = 3; level > 0; level--)
        {
            var pte = _mem.Read(table + ((va >> (12 + 9 * level)) & 511) * 8);
            if ((pte & X86Pte.P) == 0) return;
            table = pte & X86Pte.AddrMask;
        }
        _mem.Write(table + ((va >> 12) & 511) * 8, 0);
    }

    /// <summary>free_pgtables and pgd_free: every table frame.</summary>
    public void Free()
    {
        foreach (var frame in _frames) _allocator.Free(frame);
        _frames.Clear();
    }
}
