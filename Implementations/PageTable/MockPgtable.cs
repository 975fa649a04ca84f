using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// The iommufd selftest mock domain (drivers/iommu/iommufd/selftest.c, the xarray era): one slot per 2 KiB mock
/// page holding the PFN and two markers, START (first page of a map_pages call) and LAST (its last page). Here
/// the slots live in a three-level radix of 4 KiB tables in emulated memory (L0: 512 slots = 1 MiB) so the mock
/// hardware can walk them. Its rules are the selftest's: an overmap warns and overwrites; an unmap warns unless
/// it starts at a START and ends at a LAST, warns on empty slots, and always answers the requested size;
/// iova_to_phys of an unmapped page warns; freeing with mappings left warns. The aperture is
/// [16 MiB, 2 GiB − 1]; a map outside it is refused with -ERANGE (iommufd checks this above the driver).
/// </summary>
public sealed class MockPgtable : IIoPgtableOps
{
    public const ulong MockIoPageSize = 2048;                  // MOCK_IO_PAGE_SIZE = PAGE_SIZE / 2
    public const ulong ApertureStart = 1UL << 24;              // MOCK_APERTURE_START
    public const ulong ApertureLast = (1UL << 31) - 1;         // MOCK_APERTURE_LAST

    private const ulong Valid = 1, R = 2, W = 4, Start = 8, Last = 16;   // MOCK_PFN_START_IOVA / _LAST_IOVA
    private const ulong PfnMask = ((1UL << 52) - 1) & ~(MockIoPageSize - 1);
    private const ulong TableMask = ((1UL << 52) - 1) & ~0xFFFUL;
    private const int SlotShift = 11, Levels = 3;

    private readonly TablePages _pages;
    private readonly ulong _root;
    private readonly bool _enforceAperture;
    private bool _freed;
    private bool _isView;

    private MockPgtable(TablePages pages, ulong root, bool enforceAperture)
    {
        _pages = pages;
        _root = root;
        _enforceAperture = enforceAperture;
    }

    // mock_domain_alloc_paging: the root is allocated for owner's domain (gated: TablePages.AllocRoot)
    public static Errno Create(FrameAllocator allocator, out MockPgtable? table, bool enforceAperture = true, string? owner = null)
    {
        table = null;
        var pages = new TablePages(allocator);
        var r = pages.AllocRoot(0, owner, out var root);
        if (r != Errno.OK) return r;
        table = new MockPgtable(pages, root, enforceAperture);
        return Errno.OK;
    }

    /// <summary>The mock hardware's view of a table its attach record points at, for <see cref="Walk"/> only.</summary>
    public static MockPgtable ForWalk(FrameAllocator allocator, ulong root) =>
        new(new TablePages(allocator), root, enforceAperture: true) { _freed = true, _isView = true };

    /// <summary>The table pages the mock's walk can reach: a valid entry above the slot level links one.</summary>
    public IReadOnlyList<ulong> ReachableTablePages() => _freed && !_isView ? []
        : new TableReach(_pages.Memory, (e, level) => (e & Valid) != 0 && level > 0, e => e & TableMask, _ => 512, 0, -1)
            .From(_root, Levels - 1);

    public string Name => "mock 2K";
    public ulong PgsizeBitmap => MockIoPageSize;
    public int Ias => 31;
    public int Oas => 52;
    public ulong RootPhys => _root;
    public long TableFrames => _pages.Frames;
    public PgtableWarnings Warnings { get; } = new();

    private static int Index(ulong iova, int level) => (int)((iova >> (SlotShift + 9 * level)) & 511);

    /// <summary>The slot's address, creating tables on the way when <paramref name="create"/>; 0 if absent (or -ENOMEM).</summary>
    private ulong SlotAddr(ulong iova, bool create)
    {
        var table = _root;
        for (var level = Levels - 1; level > 0; level--)
        {
            var ptep = table + (ulong)Index(iova, level) * 8;
            var e = _pages.Read(ptep);
            if (e == 0)
            {
                if (!create || _pages.AllocTable(0, out var child) != Errno.OK) return 0;
                e = (child & TableMask) | Valid;
                _pages.Write(ptep, e);
            }
            table = e & TableMask;
        }
        return table + (ulong)Index(iova, 0) * 8;
    }

    // mock_domain_map_pages
    public Errno MapPages(ulong iova, ulong paddr, ulong pgsize, ulong pgcount, IommuProt prot, IotlbGather gather, out ulong mapped)
    {
        mapped = 0;
        if (_freed) return Errno.EINVAL;
        var len = pgsize * pgcount;
        if (pgsize == 0 || pgcount == 0 || len / pgcount != pgsize || pgsize % MockIoPageSize != 0 || ((iova | paddr) % MockIoPageSize) != 0)
            return Errno.EINVAL;
        var last = iova + len - 1;
        if (last < iova || paddr + len - 1 < paddr || ((paddr + len - 1) & ~PfnMask & ~(MockIoPageSize - 1)) != 0) return Errno.ERANGE;
        if (_enforceAperture ? iova < ApertureStart || last > ApertureLast : last >> 38 != 0) return Errno.ERANGE;
        var perm = ((prot & IommuProt.Read) != 0 ? R : 0) | ((prot & IommuProt.Write) != 0 ? W : 0);
        var warned = false;
        for (ulong off = 0; off < len; off += MockIoPageSize)
        {
            var slot = SlotAddr(iova + off, create: true);
            if (slot == 0)
            {
                for (ulong undo = 0; undo < off; undo += MockIoPageSize) _pages.Write(SlotAddr(iova + undo, false), 0); // xa_erase what was stored
                mapped = 0;
                return Errno.ENOMEM;
            }
            var flags = (off == 0 ? Start : 0) | (off + MockIoPageSize == len ? Last : 0);
            var old = _pages.Read(slot);
            _pages.Write(slot, ((paddr + off) & PfnMask) | Valid | perm | flags);
            if ((old & Valid) != 0 && !warned)
            {
                Warnings.Raise(PgtableWarning.MockMapOverwrite);  // WARN_ON(old): overwritten all the same
                warned = true;
            }
            mapped += MockIoPageSize;
        }
        return Errno.OK;
    }

    // mock_domain_unmap_pages
    public ulong UnmapPages(ulong iova, ulong pgsize, ulong pgcount, IotlbGather gather)
    {
        if (_freed) return 0;
        var len = pgsize * pgcount;
        if (pgsize == 0 || pgcount == 0 || len / pgcount != pgsize || iova + len - 1 < iova || ((iova | pgsize) % MockIoPageSize) != 0) return 0;
        var warnedEmpty = false;
        for (ulong off = 0; off < len; off += MockIoPageSize)
        {
            var slot = iova + off >> 38 == 0 ? SlotAddr(iova + off, create: false) : 0;
            var ent = slot == 0 ? 0 : _pages.Read(slot);
            if ((ent & Valid) == 0 && !warnedEmpty)
            {
                Warnings.Raise(PgtableWarning.MockUnmapEmpty);
                warnedEmpty = true;
            }
            if (off == 0 && (ent & Start) == 0) Warnings.Raise(PgtableWarning.MockUnmapNotStart);
            if (off + MockIoPageSize == len && (ent & Last) == 0) Warnings.Raise(PgtableWarning.MockUnmapNotLast);
            if (slot != 0) _pages.Write(slot, 0);
        }
        gather.AddPage(iova, len);
        return len;  // ret += MOCK_IO_PAGE_SIZE for every slot, mapped or not
    }

    // mock_domain_iova_to_phys
    public ulong IovaToPhys(ulong iova)
    {
        if (_freed) return 0;
        var slot = iova >> 38 == 0 ? SlotAddr(iova, create: false) : 0;
        var ent = slot == 0 ? 0 : _pages.Read(slot);
        if ((ent & Valid) == 0)
        {
            Warnings.Raise(PgtableWarning.MockIovaToPhysUnmapped);
            return 0;
        }
        return (ent & PfnMask) | (iova & (MockIoPageSize - 1));
    }

    /// <summary>The mock "hardware": reads the slot through the radix; an empty slot is a translation fault.</summary>
    public WalkResult Walk(ulong iova, IommuPerm access = IommuPerm.None)
    {
        if (iova >> 38 != 0) return WalkResult.Fault(WalkStatus.TranslationFault, Levels - 1);
        var mem = _pages.Memory;
        var table = _root;
        for (var level = Levels - 1; level >= 0; level--)
        {
            var addr = table + (ulong)Index(iova, level) * 8;
            if (mem.Load64(addr, out var e) != MemAccess.Ok) return WalkResult.Fault(WalkStatus.ExternalAbort, level, addr);
            if ((e & Valid) == 0) return WalkResult.Fault(WalkStatus.TranslationFault, level);
            if (level == 0)
            {
                var perm = ((e & R) != 0 ? IommuPerm.Read : IommuPerm.None) | ((e & W) != 0 ? IommuPerm.Write : IommuPerm.None);
                return WalkResult.Hit(0, iova, iova & ~(MockIoPageSize - 1), MockIoPageSize, e & PfnMask, perm).Check(access);
            }
            table = e & TableMask;
        }
        return WalkResult.Fault(WalkStatus.TranslationFault, 0);
    }

    /// <summary>Mapped slots, counted through the radix (the selftest's xa_empty check).</summary>
    public long MappedSlots()
    {
        long n = 0;
        Count(_root, Levels - 1, ref n);
        return n;
    }

    private void Count(ulong table, int level, ref long n)
    {
        for (ulong i = 0; i < 512; i++)
        {
            var e = _pages.Read(table + i * 8);
            if ((e & Valid) == 0) continue;
            if (level == 0) n++;
            else Count(e & TableMask, level - 1, ref n);
        }
    }

    // mock_domain_free: WARN_ON(!xa_empty(&mock->pfns)), then every table
    public void Free()
    {
        if (_freed) return;
        if (MappedSlots() != 0) Warnings.Raise(PgtableWarning.MockFreeNotEmpty);
        _freed = true;
        FreeTables(_root, Levels - 1);
    }

    private void FreeTables(ulong table, int level)
    {
        if (level > 0)
            for (ulong i = 0; i < 512; i++)
            {
                var e = _pages.Read(table + i * 8);
                if ((e & Valid) != 0) FreeTables(e & TableMask, level - 1);
            }
        _pages.FreeNow(table);
    }
}
