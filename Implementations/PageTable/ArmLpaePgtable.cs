using System.Numerics;
using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Memory;
using static IommuConformance.Implementations.PageTable.ArmLpaePte;

namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// io-pgtable-arm's ARM_64_LPAE_S1 / ARM_64_LPAE_S2 formats over emulated memory. Levels are numbered as the
/// architecture does (0..3, the walk starting at 4 − levels). Rules since 2024: overmap of a leaf → -EEXIST with
/// a warning; unmap of an empty entry → 0 with a warning; unmap of part of a larger leaf → 0 with a warning (no
/// split). A block mapped where a table is unlinks that table (whatever it still maps), as arm_lpae_init_pte does.
/// </summary>
public sealed partial class ArmLpaePgtable : IIoPgtableOps
{
    private const int MaxLevels = 4;

    private readonly ArmLpaeConfig _cfg;
    private readonly TablePages _pages;
    private readonly int _pgShift;
    private readonly int _bitsPerLevel;
    private readonly int _startLevel;
    private readonly int _pgdIdxBits;      // extra index bits of a concatenated stage-2 pgd
    private readonly ulong _pgdSize;
    private readonly int _tableOrder;
    private readonly ulong _pgd;
    private bool _freed;
    private bool _isView;

    private ArmLpaePgtable(ArmLpaeConfig cfg, TablePages pages, int pgShift, int bpl, int levels, ulong pgdSize, int pgdIdxBits, ulong pgd)
    {
        _cfg = cfg;
        _pages = pages;
        _pgShift = pgShift;
        _bitsPerLevel = bpl;
        _startLevel = MaxLevels - levels;
        _pgdSize = pgdSize;
        _pgdIdxBits = pgdIdxBits;
        _tableOrder = pgShift - PhysicalMemory.FrameShift;
        _pgd = pgd;
        PgsizeBitmap = ArmLpaeConfig.PgsizesOf(cfg.Granule);
    }

    // arm_64_lpae_alloc_pgtable_s1 / _s2 (via arm_lpae_alloc_pgtable): -EINVAL for a bad config, -ENOMEM without a pgd.
    // gated: false for a table that is not the IOMMU's (an mm's CPU page table): its table pages ask no fault gate.
    // owner: the device whose domain the table is for; its pgd asks the gate (TablePages.AllocRoot).
    public static Errno Create(ArmLpaeConfig cfg, FrameAllocator allocator, out ArmLpaePgtable? table, bool gated = true, string? owner = null)
    {
        table = null;
        if (cfg.Validate() != Errno.OK) return Errno.EINVAL;
        var (pgShift, bpl, levels, pgdSize, pgdIdxBits) = Geometry(cfg);
        var pages = new TablePages(allocator, gated);
        var pgdOrder = Math.Max(0, BitOperations.TrailingZeroCount(Math.Max(pgdSize, PhysicalMemory.FrameSize)) - PhysicalMemory.FrameShift);
        var r = pages.AllocRoot(pgdOrder, owner, out var pgd);
        if (r != Errno.OK) return r;
        table = new ArmLpaePgtable(cfg, pages, pgShift, bpl, levels, pgdSize, pgdIdxBits, pgd);
        return Errno.OK;
    }

    /// <summary>
    /// The hardware's view of a table some TTBR points at: the same geometry over <paramref name="root"/>, for
    /// <see cref="Walk"/> only (the SMMU decodes a CD into this). Null for a configuration the walker cannot use.
    /// </summary>
    public static ArmLpaePgtable? ForWalk(ArmLpaeConfig cfg, FrameAllocator allocator, ulong root)
    {
        if (cfg.Validate() != Errno.OK) return null;
        var (pgShift, bpl, levels, pgdSize, pgdIdxBits) = Geometry(cfg);
        var view = new ArmLpaePgtable(cfg, new TablePages(allocator), pgShift, bpl, levels, pgdSize, pgdIdxBits, root);
        view._freed = true;   // a view never maps, unmaps or frees
        view._isView = true;
        return view;
    }

    private static (int PgShift, int Bpl, int Levels, ulong PgdSize, int PgdIdxBits) Geometry(ArmLpaeConfig cfg)
    {
        var pgShift = BitOperations.TrailingZeroCount(cfg.Granule);
        var bpl = pgShift - 3;
        var vaBits = cfg.Ias - pgShift;
        var levels = (vaBits + bpl - 1) / bpl;
        var pgdBits = vaBits - bpl * (levels - 1);
        var pgdSize = 1UL << (pgdBits + 3);
        var pgdIdxBits = 0;
        if (cfg.Stage == ArmLpaeStage.Stage2 && cfg.ConcatenateStage2 && levels == MaxLevels)
        {
            var pgdPages = pgdSize >> 3; // entries of the level-0 table = tables concatenated at level 1
            if (pgdPages <= 16)
            {
                pgdSize = pgdPages << pgShift;
                levels--;
                pgdIdxBits = BitOperations.TrailingZeroCount(pgdPages);
            }
        }
        return (pgShift, bpl, levels, pgdSize, pgdIdxBits);
    }

    public ArmLpaeConfig Config => _cfg;
    public string Name => _cfg.ToString();
    public ulong PgsizeBitmap { get; }
    public int Ias => _cfg.Ias;
    public int Oas => _cfg.Oas;
    public ulong RootPhys => _pgd;
    public long TableFrames => _pages.Frames;
    public PgtableWarnings Warnings { get; } = new();

    /// <summary>The machine's seeded bugs (split_on_partial_unmap, overmap_accepted); none unless the driver sets them.</summary>
    public BugSwitches Bugs { get; set; } = BugSwitches.None;

    /// <summary>The level the walk starts at (0..2).</summary>
    public int StartLevel => _startLevel;

    private ulong Granule => 1UL << _pgShift;
    private int PtesPerTable => 1 << _bitsPerLevel;
    private int LvlShift(int lvl) => (MaxLevels - 1 - lvl) * _bitsPerLevel + _pgShift;      // ARM_LPAE_LVL_SHIFT
    private ulong BlockSize(int lvl) => 1UL << LvlShift(lvl);                               // ARM_LPAE_BLOCK_SIZE
    private int LvlIdx(ulong iova, int lvl) =>                                               // ARM_LPAE_LVL_IDX
        (int)((iova >> LvlShift(lvl)) & ((1UL << (_bitsPerLevel + (lvl == _startLevel ? _pgdIdxBits : 0))) - 1));
    private int MaxEntries(int idx) => PtesPerTable - (idx & (PtesPerTable - 1));           // arm_lpae_max_entries
    private ulong TableAddr(ulong pte) => pte & AddrMask & ~(Granule - 1);                  // iopte_deref
    private ulong TableBytes(int lvl) => lvl == _startLevel ? _pgdSize : Granule;
    private bool InIas(ulong iova) => _cfg.Ias >= 64 || iova >> _cfg.Ias == 0;

    // arm_lpae_map_pages
    public Errno MapPages(ulong iova, ulong paddr, ulong pgsize, ulong pgcount, IommuProt prot, IotlbGather gather, out ulong mapped)
    {
        mapped = 0;
        if (_freed) return Errno.EINVAL;
        if (pgsize == 0 || (pgsize & PgsizeBitmap) != pgsize || BitOperations.PopCount(pgsize) != 1)
        {
            Warnings.Raise(PgtableWarning.ArmMapBadPgsize);
            return Errno.EINVAL;
        }
        if (pgcount == 0) return Errno.EINVAL;
        // The kernel checks the first IOVA and PA; the last ones are checked too so that a run can never index
        // past a short pgd (the core's callers never reach that case).
        var len = pgsize * pgcount;
        if (len / pgsize != pgcount || !InIas(iova) || !InIas(iova + len - 1) || iova + len - 1 < iova
            || paddr >> _cfg.Oas != 0 || (paddr + len - 1) >> _cfg.Oas != 0 || paddr + len - 1 < paddr)
        {
            Warnings.Raise(PgtableWarning.ArmMapRange);
            return Errno.ERANGE;
        }
        if ((prot & (IommuProt.Read | IommuProt.Write)) == 0) return Errno.EINVAL;
        var pte = ProtToPte(_cfg.Stage, prot);
        ulong done = 0;
        var r = MapAt(iova, paddr, pgsize, pgcount, pte, _startLevel, _pgd, gather, ref done);
        mapped = done;
        return r;
    }

    // __arm_lpae_map
    private Errno MapAt(ulong iova, ulong paddr, ulong size, ulong pgcount, ulong prot, int lvl, ulong table, IotlbGather gather, ref ulong mapped)
    {
        while (true)
        {
            var idx = LvlIdx(iova, lvl);
            var ptep = table + (ulong)idx * 8;
            if (size == BlockSize(lvl))
            {
                var n = (int)Math.Min(pgcount, (ulong)MaxEntries(idx));
                var r = InitPte(iova, paddr, prot, lvl, n, ptep, gather);
                if (r == Errno.OK) mapped += (ulong)n * size;
                return r;
            }
            if (lvl >= MaxLevels - 1) return Errno.EINVAL; // WARN_ON in the kernel; unreachable past the pgsize check

            var pte = _pages.Read(ptep);
            if (pte == 0)
            {
                var r = _pages.AllocTable(_tableOrder, out var child);
                if (r != Errno.OK) return Errno.ENOMEM;
                pte = (child & AddrMask) | TypeTable;                                      // arm_lpae_install_table
                _pages.Write(ptep, pte);
            }
            else if (IsLeaf(pte, lvl))
            {
                Warnings.Raise(PgtableWarning.ArmMapExists);                              // "We require an unmap first"
                return Errno.EEXIST;
            }
            table = TableAddr(pte);
            lvl++;
        }
    }

    // arm_lpae_init_pte + __arm_lpae_init_pte
    private Errno InitPte(ulong iova, ulong paddr, ulong prot, int lvl, int n, ulong ptep, IotlbGather gather)
    {
        var sz = BlockSize(lvl);
        for (var i = 0; i < n; i++)
        {
            var old = _pages.Read(ptep + (ulong)i * 8);
            // Seeded bug overmap_accepted: a leaf in the way is overwritten instead of refused.
            if (IsLeaf(old, lvl) && !Bugs.IsOn(BugCatalogue.OvermapAccepted))
            {
                Warnings.Raise(PgtableWarning.ArmMapExists);
                return Errno.EEXIST;
            }
            if (IsTable(old, lvl))
            {
                // "We need to unmap and free the old table before overwriting it with a block entry." The kernel
                // flushes the walk synchronously, then frees; here the range and pages go to the caller's gather.
                _pages.Write(ptep + (ulong)i * 8, 0);
                gather.AddRange(iova + (ulong)i * sz, sz);
                FreeTable(lvl + 1, TableAddr(old), gather);
            }
        }
        var type = lvl == MaxLevels - 1 ? TypePage : TypeBlock;
        for (var i = 0; i < n; i++)
            _pages.Write(ptep + (ulong)i * 8, prot | type | ((paddr + (ulong)i * sz) & AddrMask));
        return Errno.OK;
    }

    // arm_lpae_unmap_pages
    public ulong UnmapPages(ulong iova, ulong pgsize, ulong pgcount, IotlbGather gather)
    {
        if (_freed) return 0;
        if (pgsize == 0 || (pgsize & PgsizeBitmap) != pgsize || BitOperations.PopCount(pgsize) != 1 || pgcount == 0 || !InIas(iova))
        {
            Warnings.Raise(PgtableWarning.ArmUnmapBadArgs);
            return 0;
        }
        return UnmapAt(iova, pgsize, pgcount, _startLevel, _pgd, gather);
    }

    // __arm_lpae_unmap
    private ulong UnmapAt(ulong iova, ulong size, ulong pgcount, int lvl, ulong table, IotlbGather gather)
    {
        while (true)
        {
            if (lvl == MaxLevels) return 0;
            var idx = LvlIdx(iova, lvl);
            var ptep = table + (ulong)idx * 8;
            var pte = _pages.Read(ptep);
            if (pte == 0)
            {
                Warnings.Raise(PgtableWarning.ArmUnmapEmpty);
                return 0;
            }
            if (size == BlockSize(lvl))
            {
                var n = (int)Math.Min(pgcount, (ulong)MaxEntries(idx));
                var i = 0;
                for (; i < n; i++)
                {
                    pte = _pages.Read(ptep + (ulong)i * 8);
                    if (pte == 0)
                    {
                        Warnings.Raise(PgtableWarning.ArmUnmapEmpty);
                        break;
                    }
                    if (!IsLeaf(pte, lvl))
                    {
                        // io_pgtable_tlb_flush_walk, then __arm_lpae_free_pgtable: here, via the gather
                        _pages.Write(ptep + (ulong)i * 8, 0);
                        gather.AddRange(iova + (ulong)i * size, size);
                        FreeTable(lvl + 1, TableAddr(pte), gather);
                    }
                }
                for (var j = 0; j < i; j++)
                {
                    _pages.Write(ptep + (ulong)j * 8, 0);                                     // __arm_lpae_clear_pte
                    gather.AddPage(iova + (ulong)j * size, size);                              // io_pgtable_tlb_add_page
                }
                return (ulong)i * size;
            }
            // Seeded bug split_on_partial_unmap: the pre-2024 split of the block instead of the warning and 0.
            if (IsLeaf(pte, lvl) && Bugs.IsOn(BugCatalogue.SplitOnPartialUnmap)) return SplitBlkUnmap(iova, size, pgcount, pte, lvl, ptep, gather);
            if (IsLeaf(pte, lvl))
            {
                Warnings.Raise(PgtableWarning.ArmUnmapPartialLarge);                          // no split since 2024
                return 0;
            }
            table = TableAddr(pte);
            lvl++;
        }
    }

    /// <summary>
    /// arm_lpae_split_blk_unmap as it was before fd50651636fb (Nov 2024), kept only for the seeded bug: the block
    /// becomes a table of next-level leaves of the same output and rights, less the ones being unmapped (or, for a
    /// smaller size, the unmap goes on into the new table), installed over the block.
    /// </summary>
    private ulong SplitBlkUnmap(ulong iova, ulong size, ulong pgcount, ulong blkPte, int lvl, ulong ptep, IotlbGather gather)
    {
        var tablelvl = lvl + 1;
        var splitSz = BlockSize(tablelvl);
        if (_pages.Alloc(_tableOrder, out var table) != Errno.OK) return 0;
        int start = -1, n = 0;
        if (size == splitSz)
        {
            start = LvlIdx(iova, tablelvl);
            n = (int)Math.Min(pgcount, (ulong)MaxEntries(start));
        }
        var paddr = blkPte & AddrMask & ~(BlockSize(lvl) - 1);
        var prot = blkPte & ~(AddrMask & ~(Granule - 1)) & ~TypeMask;                      // iopte_prot
        var type = tablelvl == MaxLevels - 1 ? TypePage : TypeBlock;
        for (var i = 0; i < PtesPerTable; i++, paddr += splitSz)
            if (i < start || i >= start + n) _pages.Write(table + (ulong)i * 8, prot | type | (paddr & AddrMask));
        _pages.Write(ptep, (table & AddrMask) | TypeTable);                                   // arm_lpae_install_table
        if (n == 0) return UnmapAt(iova, size, pgcount, tablelvl, table, gather);
        for (var i = 0; i < n; i++) gather.AddPage(iova + (ulong)i * size, size);
        return (ulong)n * size;
    }

    // __arm_lpae_free_pgtable: a table and everything below it; to the gather, or at once when gather is null
    private void FreeTable(int lvl, ulong table, IotlbGather? gather)
    {
        if (lvl < MaxLevels - 1)
        {
            var entries = TableBytes(lvl) / 8;
            for (ulong i = 0; i < entries; i++)
            {
                var pte = _pages.Read(table + i * 8);
                if (pte != 0 && !IsLeaf(pte, lvl)) FreeTable(lvl + 1, TableAddr(pte), gather);
            }
        }
        if (gather is null) _pages.FreeNow(table);
        else _pages.Defer(gather, table);
    }

    // arm_lpae_iova_to_phys
    public ulong IovaToPhys(ulong iova)
    {
        if (_freed || !InIas(iova)) return 0;
        var table = _pgd;
        for (var lvl = _startLevel; lvl < MaxLevels; lvl++)
        {
            var pte = _pages.Read(table + (ulong)LvlIdx(iova, lvl) * 8);
            if (pte == 0) return 0;
            if (IsLeaf(pte, lvl)) return (pte & AddrMask & ~(BlockSize(lvl) - 1)) | (iova & (BlockSize(lvl) - 1));
            table = TableAddr(pte);
        }
        return 0;
    }

    // arm_lpae_free_pgtable
    public void Free()
    {
        if (_freed) return;
        _freed = true;
        FreeTable(_startLevel, _pgd, null);
    }
}
