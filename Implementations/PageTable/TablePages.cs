using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// The table pages one page table holds, over the shared frame allocator: allocation, descriptor reads and
/// writes (software side), and the two ways a page leaves the table: handed to a gather (freed by the caller
/// after its invalidation) or freed at once (teardown, when no walk can reach the table any more).
/// </summary>
internal sealed class TablePages(FrameAllocator allocator, bool gated = true)
{
    private readonly PhysicalMemory _mem = allocator.Memory;

    public FrameAllocator Allocator => allocator;

    public PhysicalMemory Memory => _mem;

    /// <summary>Frames of pages still linked into this table.</summary>
    public long Frames { get; private set; }

    /// <summary>
    /// A table page a map needs on its way down (iommu_alloc_pages_node_sz from __arm_lpae_alloc_pages, pt_iommu_new_table,
    /// the mock's xarray node): asks the machine's gate first, -ENOMEM when it fails. An mm's CPU page table is not gated:
    /// its pages come from the mm's own allocator (pte_alloc), which fail_nth does not count (docs/dma.md).
    /// </summary>
    public Errno AllocTable(int order, out ulong phys)
    {
        phys = 0;
        if (gated && allocator.TableGate?.ShouldFail(Contract.Warn.FaultSites.TablePage) == true) return Errno.ENOMEM;
        return Alloc(order, out phys);
    }

    /// <summary>
    /// A new table's top level (the pgd of arm_lpae_alloc_pgtable, pt_iommu_init's top table, the mock's root), allocated
    /// for <paramref name="owner"/>'s paging domain: asks the gate (the line names the device, docs/dma.md), -ENOMEM when
    /// it fails. Without an owner (a table no driver allocates for a device: a unit test's, an mm's) no gate is asked.
    /// </summary>
    public Errno AllocRoot(int order, string? owner, out ulong phys)
    {
        phys = 0;
        if (gated && owner is not null && allocator.TableGate?.ShouldFail(Contract.Warn.FaultSites.Key(Contract.Warn.FaultSites.TableRoot, owner)) == true)
            return Errno.ENOMEM;
        return Alloc(order, out phys);
    }

    public Errno Alloc(int order, out ulong phys)
    {
        var r = allocator.Alloc(order, out phys);
        if (r == Errno.OK) Frames += 1L << order;
        return r;
    }

    public ulong Read(ulong addr) => _mem.Read(addr);

    public void Write(ulong addr, ulong value) => _mem.Write(addr, value);

    public void Defer(IotlbGather gather, ulong phys)
    {
        Frames -= 1L << allocator.OrderOf(phys);
        gather.AddFreedTable(allocator, phys);
    }

    public void FreeNow(ulong phys)
    {
        Frames -= 1L << allocator.OrderOf(phys);
        allocator.Free(phys);
    }
}
