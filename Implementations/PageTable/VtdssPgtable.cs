using System.Numerics;
using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// The VT-d second-stage table as generic_pt writes it (fmt/vtdss.h + iommu_pt.h). Levels count up from the
/// leaf as generic_pt does: 0 = SS-PTE (4K), 1 = SS-PDE (2M), 2 = SS-PDPTE (1G), 3 = SS-PML4E (tables only).
/// Rules: an overmap is -EADDRINUSE without a warning; an unmap that starts at a large leaf removes the whole
/// leaf and answers its size; one that starts inside a leaf, or reaches a hole, stops there (0 at the hole);
/// a large leaf may replace a table only when nothing below it is mapped (clear_contig).
/// </summary>
public sealed class VtdssPgtable : IIoPgtableOps
{
    private const ulong R = 1UL << 0, W = 1UL << 1, Ps = 1UL << 7;
    private const ulong OaMask = ((1UL << 52) - 1) & ~0xFFFUL;   // VTDSS_FMT_OA, bits 51:12
    private const int ItemsLg2 = 9;

    private readonly TablePages _pages;
    private readonly int _topLevel;
    private readonly ulong _root;
    private bool _freed;
    private bool _isView;

    private VtdssPgtable(TablePages pages, int vaBits, int oaBits, int topLevel, ulong root)
    {
        _pages = pages;
        Ias = vaBits;
        Oas = oaBits;
        _topLevel = topLevel;
        _root = root;
    }

    // pt_iommu_vtdss_init: top level 2, 3 or 4 for a VA width of 31..39, 40..48 or 49..57 bits; the top table is
    // allocated for owner's domain (table_alloc_top, gated: TablePages.AllocRoot)
    public static Errno Create(FrameAllocator allocator, out VtdssPgtable? table, int vaBits = 48, int oaBits = 48, string? owner = null)
    {
        table = null;
        int top;
        if (vaBits > 57 || vaBits <= 30 || oaBits is < 32 or > 52) return Errno.EOPNOTSUPP;
        else if (vaBits > 48) top = 4;
        else if (vaBits > 39) top = 3;
        else top = 2;
        var pages = new TablePages(allocator);
        var r = pages.AllocRoot(0, owner, out var root);
        if (r != Errno.OK) return r;
        table = new VtdssPgtable(pages, vaBits, oaBits, top, root);
        return Errno.OK;
    }

    /// <summary>
    /// The hardware's view of a table a context entry points at: AW field <paramref name="aw"/> (1..3 = 3..5 levels),
    /// for <see cref="Walk"/> only. Null for an AW the walker does not support.
    /// </summary>
    public static VtdssPgtable? ForWalk(FrameAllocator allocator, ulong root, int aw)
    {
        if (aw is < 1 or > 3) return null;
        var vaBits = 30 + 9 * aw;   // AGAW: 39, 48 or 57 bits
        return new VtdssPgtable(new TablePages(allocator), vaBits, 52, aw + 1, root) { _freed = true, _isView = true };
    }

    /// <summary>The table pages the hardware's walk can reach: a present (R or W) non-leaf entry above level 0 links one.</summary>
    public IReadOnlyList<ulong> ReachableTablePages() => _freed && !_isView ? []
        : new TableReach(_pages.Memory, (e, level) => (e & (R | W)) != 0 && level > 0 && (e & Ps) == 0, e => e & OaMask, _ => 512,
            0, -1).From(_root, _topLevel);

    public string Name => $"vtdss {Ias}";
    public ulong PgsizeBitmap => (1UL << 12) | (1UL << 21) | (1UL << 30);
    public int Ias { get; }
    public int Oas { get; }
    public ulong RootPhys => _root;
    public long TableFrames => _pages.Frames;
    public PgtableWarnings Warnings { get; } = new();

    /// <summary>The machine's seeded bugs (partial_unmap_inval_requested_only); none unless the driver sets them.</summary>
    public BugSwitches Bugs { get; set; } = BugSwitches.None;

    /// <summary>The AW field of the context entry: top level − 1 (aw 2 = 4-level table).</summary>
    public int AddressWidthField => _topLevel - 1;

    private static int ItemLg2(int level) => 12 + ItemsLg2 * level;                     // pt_table_item_lg2sz
    private static int Index(ulong va, int level) => (int)((va >> ItemLg2(level)) & 511);
    private static bool CanHaveLeaf(int level) => level <= 2;
    private static bool IsOa(ulong entry, int level) => entry != 0 && (level == 0 || (CanHaveLeaf(level) && (entry & Ps) != 0));
    private static bool IsTable(ulong entry, int level) => entry != 0 && !IsOa(entry, level);
    private bool VaInRange(ulong va) => Ias >= 64 || va >> Ias == 0;

    // pt_compute_best_pgsize: the largest size aligned for va and oa that fits before last
    private ulong BestPgsize(ulong va, ulong last, ulong oa)
    {
        for (var lg2 = 30; lg2 >= 12; lg2 -= ItemsLg2)
        {
            var size = 1UL << lg2;
            if ((PgsizeBitmap & size) == 0 || ((va | oa) & (size - 1)) != 0) continue;
            if (va + size - 1 <= last && va + size - 1 >= va) return size;
        }
        return 0;
    }

    // pt_iommu_vtdss_map_pages (DOMAIN_NS(map_pages))
    public Errno MapPages(ulong iova, ulong paddr, ulong pgsize, ulong pgcount, IommuProt prot, IotlbGather gather, out ulong mapped)
    {
        mapped = 0;
        if (_freed) return Errno.EINVAL;
        if ((prot & (IommuProt.Read | IommuProt.Write)) == 0)
        {
            Warnings.Raise(PgtableWarning.PtMapNoAccess);
            return Errno.EINVAL;
        }
        var len = pgsize * pgcount;
        if (pgsize == 0 || pgcount == 0 || len / pgcount != pgsize) return Errno.EINVAL;
        var last = iova + len - 1;
        var lastOa = paddr + len - 1;
        if (lastOa < paddr || lastOa >> Oas != 0) return Errno.ERANGE;         // the table cannot store the OA
        if (last < iova || !VaInRange(last)) return Errno.ERANGE;              // pt_check_range
        var leaf = BestPgsize(iova, last, paddr);
        if (leaf == 0) return Errno.EINVAL;                                     // -ENXIO in the kernel; the core's alignment check precedes it
        var leafLevel = (BitOperations.TrailingZeroCount(leaf) - 12) / ItemsLg2;
        var bits = ((prot & IommuProt.Read) != 0 ? R : 0) | ((prot & IommuProt.Write) != 0 ? W : 0);  // vtdss_pt_iommu_set_prot

        var va = iova;
        var oa = paddr;
        // generic_pt's __map_range descends once per table and then walks its items: the leaf table found for one
        // leaf serves the following leaves until the range leaves it (a 1 GiB map of 4K pages is 512 descents, not 262,144)
        var leafTable = 0UL;
        var leafTableSpan = ulong.MaxValue;
        while (true)
        {
            var span = va >> ItemLg2(leafLevel + 1);
            if (span != leafTableSpan) leafTable = 0;
            var r = MapOne(va, oa, leafLevel, bits, gather, ref leafTable);
            if (r != Errno.OK) return r;
            leafTableSpan = span;
            mapped += leaf;
            if (va + leaf - 1 >= last) return Errno.OK;
            va += leaf;
            oa += leaf;
        }
    }

    // __map_range (descend, creating tables) then __map_range_leaf for one leaf
    private Errno MapOne(ulong va, ulong oa, int leafLevel, ulong bits, IotlbGather gather, ref ulong leafTable)
    {
        var table = leafTable != 0 ? leafTable : _root;
        for (var level = leafTable != 0 ? leafLevel : _topLevel; level > leafLevel; level--)
        {
            var ptep = table + (ulong)Index(va, level) * 8;
            var entry = _pages.Read(ptep);
            if (entry == 0)
            {
                if (_pages.AllocTable(0, out var child) != Errno.OK) return Errno.ENOMEM;   // pt_iommu_new_table
                entry = R | W | (child & OaMask);                                        // vtdss_pt_install_table
                _pages.Write(ptep, entry);
            }
            else if (IsOa(entry, level)) return Errno.EADDRINUSE;
            table = entry & OaMask;
        }
        leafTable = table;
        var leafPtep = table + (ulong)Index(va, leafLevel) * 8;
        var old = _pages.Read(leafPtep);
        if (IsOa(old, leafLevel)) return Errno.EADDRINUSE;
        if (old != 0)
        {
            // clear_contig: a table may give way to a large leaf only if nothing below it is mapped
            if (MapsAnything(old & OaMask, leafLevel - 1)) return Errno.EADDRINUSE;
            _pages.Write(leafPtep, 0);
            gather.AddRange(va & ~((1UL << ItemLg2(leafLevel)) - 1), 1UL << ItemLg2(leafLevel));
            CollectTables(old & OaMask, leafLevel - 1, gather);
        }
        _pages.Write(leafPtep, (oa & OaMask) | bits | (leafLevel != 0 ? Ps : 0));       // vtdss_pt_install_leaf_entry
        return Errno.OK;
    }

    private bool MapsAnything(ulong table, int level)
    {
        for (ulong i = 0; i < 512; i++)
        {
            var e = _pages.Read(table + i * 8);
            if (IsOa(e, level)) return true;
            if (IsTable(e, level) && MapsAnything(e & OaMask, level - 1)) return true;
        }
        return false;
    }

    // __collect_tables: a table and its lower tables, to the gather (or freed at once at teardown)
    private void CollectTables(ulong table, int level, IotlbGather? gather)
    {
        if (level > 0)
            for (ulong i = 0; i < 512; i++)
            {
                var e = _pages.Read(table + i * 8);
                if (IsTable(e, level)) CollectTables(e & OaMask, level - 1, gather);
            }
        if (gather is null) _pages.FreeNow(table);
        else _pages.Defer(gather, table);
    }

    // pt_iommu_vtdss_unmap_pages (DOMAIN_NS(unmap_pages))
    public ulong UnmapPages(ulong iova, ulong pgsize, ulong pgcount, IotlbGather gather)
    {
        if (_freed) return 0;
        var len = pgsize * pgcount;
        if (len == 0 || len / pgcount != pgsize) return 0;
        var last = iova + len - 1;
        if (last < iova || !VaInRange(last)) return 0;                        // make_range fails: nothing unmapped
        ulong unmapped = 0;
        var removedStart = iova;
        var removedLast = last;
        var freed = new List<ulong>();
        UnmapRange(_root, _topLevel, iova, last, ref unmapped, ref removedStart, ref removedLast, freed);
        // gather_range_pages adds (iova, len); a leaf removed whole may reach past it, and the invalidation must
        // cover what was removed (spec §2 note), so the gathered range is widened to the removed leaves.
        // Seeded bug partial_unmap_inval_requested_only: the gather gets what was asked, not what was removed.
        if (unmapped != 0 || freed.Count != 0)
            gather.AddPage(Bugs.IsOn(BugCatalogue.PartialUnmapInvalRequestedOnly) ? iova : removedStart,
                Bugs.IsOn(BugCatalogue.PartialUnmapInvalRequestedOnly) ? len : removedLast - removedStart + 1);
        foreach (var t in freed) _pages.Defer(gather, t);
        return unmapped;
    }

    // __unmap_range: false where the walk stopped (a hole, or a start inside a leaf)
    private bool UnmapRange(ulong table, int level, ulong va, ulong last, ref ulong unmapped, ref ulong removedStart, ref ulong removedLast, List<ulong> freed)
    {
        var itemSize = 1UL << ItemLg2(level);
        var first = true;
        var cur = va;
        while (true)
        {
            var ptep = table + (ulong)Index(cur, level) * 8;
            var entry = _pages.Read(ptep);
            var entryStart = cur & ~(itemSize - 1);
            var entryLast = entryStart + itemSize - 1;
            if (IsOa(entry, level))
            {
                if (first && (va & (itemSize - 1)) != 0) return false;          // a start inside a large leaf: -EINVAL
                _pages.Write(ptep, 0);
                unmapped += itemSize;
                removedStart = Math.Min(removedStart, entryStart);
                removedLast = Math.Max(removedLast, entryLast);
            }
            else if (entry != 0)
            {
                var covered = cur == entryStart && last >= entryLast;            // pt_entry_fully_covered
                if (!UnmapRange(entry & OaMask, level - 1, cur, Math.Min(last, entryLast), ref unmapped, ref removedStart, ref removedLast, freed))
                    return false;
                if (covered)
                {
                    freed.Add(entry & OaMask);
                    _pages.Write(ptep, 0);
                }
            }
            else return false;                                                    // a hole: stop here
            first = false;
            if (entryLast >= last || Index(entryLast + 1, level) == 0) return true;
            cur = entryLast + 1;
        }
    }

    // pt_iommu_vtdss_iova_to_phys
    public ulong IovaToPhys(ulong iova)
    {
        if (_freed || !VaInRange(iova)) return 0;
        var table = _root;
        for (var level = _topLevel; level >= 0; level--)
        {
            var e = _pages.Read(table + (ulong)Index(iova, level) * 8);
            if (e == 0) return 0;
            if (IsOa(e, level))
            {
                var size = 1UL << ItemLg2(level);
                return (e & OaMask & ~(size - 1)) | (iova & (size - 1));
            }
            table = e & OaMask;
        }
        return 0;
    }

    /// <summary>
    /// The VT-d second-stage walk: an input past the address width is "address beyond MGAW" (translation fault at
    /// the top level); an entry without R and W is not present; PS at the top level is a reserved bit; an unbacked
    /// table is an external abort (the hardware's table-read fault). The leaf's R/W bits give the rights.
    /// </summary>
    public WalkResult Walk(ulong iova, IommuPerm access = IommuPerm.None)
    {
        if (!VaInRange(iova)) return WalkResult.Fault(WalkStatus.TranslationFault, _topLevel);
        var mem = _pages.Memory;
        var table = _root;
        for (var level = _topLevel; level >= 0; level--)
        {
            var addr = table + (ulong)Index(iova, level) * 8;
            if (mem.Load64(addr, out var e) != MemAccess.Ok) return WalkResult.Fault(WalkStatus.ExternalAbort, level, addr);
            if ((e & (R | W)) == 0) return WalkResult.Fault(WalkStatus.TranslationFault, level);
            if (level == 0 || (e & Ps) != 0)
            {
                if (!CanHaveLeaf(level)) return WalkResult.Fault(WalkStatus.TranslationFault, level);
                var size = 1UL << ItemLg2(level);
                var perm = ((e & R) != 0 ? IommuPerm.Read : IommuPerm.None) | ((e & W) != 0 ? IommuPerm.Write : IommuPerm.None);
                return WalkResult.Hit(level, iova, iova & ~(size - 1), size, e & OaMask & ~(size - 1), perm).Check(access);
            }
            table = e & OaMask;
        }
        return WalkResult.Fault(WalkStatus.TranslationFault, 0);
    }

    // pt_iommu_deinit: every table, the root last
    public void Free()
    {
        if (_freed) return;
        _freed = true;
        CollectTables(_root, _topLevel, null);
    }
}
