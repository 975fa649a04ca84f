using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// A driver's paging domain with its io-pgtable (struct iommu_domain of type paging, with iommu_domain_ops'
/// map_pages / unmap_pages / iotlb_sync / iova_to_phys). The IOMMU API calls the adapter wires to the trace's
/// map, unmap and iova_to_phys are here: <see cref="Map"/> is iommu_map, <see cref="Unmap"/> iommu_unmap (strict:
/// the gather is synced before it returns), <see cref="IovaToPhys"/> iommu_iova_to_phys. Bad input answers the
/// kernel's errno (or 0 bytes) and changes nothing; page-table WARNs come back as <see cref="PgtableWarning"/>s.
/// </summary>
public abstract class PagingDomain(int id, IommuDomainOps ops, string driver, IIoPgtableOps pgtable)
    : IommuDomain(id, DomainType.Unmanaged, ops, driver, isStatic: false)
{
    public IIoPgtableOps Pgtable => pgtable;

    /// <summary>The machine's seeded-bug switches (<c>map_failure_not_unwound</c> in <see cref="Map"/>); set by the core at iommu_domain_init.</summary>
    public BugSwitches Bugs { get; set; } = BugSwitches.None;

    /// <summary>Table frames the domain holds now (root included): 0 after free.</summary>
    public long TableFrames => Pgtable.TableFrames;

    // iommu_map: __iommu_map (the loop; a failure unmaps what was mapped), then ops->iotlb_sync_map
    public Errno Map(ulong iova, ulong paddr, ulong size, IommuProt prot, out PgtableWarning[] warnings)
    {
        warnings = [];
        if (Freed) return Errno.EINVAL;
        var gather = new IotlbGather();
        var ret = IommuMapping.Map(Pgtable, iova, paddr, size, prot, gather, unroll: !Bugs.IsOn(BugCatalogue.MapFailureNotUnwound));
        // A map that replaced tables, or a failed map that unwound, leaves a gather to invalidate before its pages go.
        if (!gather.IsEmpty || gather.FreelistCount != 0) IotlbSync(gather);
        if (ret == Errno.OK) ret = IotlbSyncMap(iova, size);
        warnings = Pgtable.Warnings.Drain();
        return ret;
    }

    // iommu_unmap: iommu_iotlb_gather_init, __iommu_unmap, iommu_iotlb_sync
    public ulong Unmap(ulong iova, ulong size, out PgtableWarning[] warnings)
    {
        warnings = [];
        if (Freed) return 0;
        var gather = new IotlbGather();
        var unmapped = IommuMapping.Unmap(Pgtable, iova, size, gather);
        IotlbSync(gather);
        warnings = Pgtable.Warnings.Drain();
        return unmapped;
    }

    // iommu_unmap_fast: __iommu_unmap into the caller's gather; the caller syncs (strict) or queues it (lazy)
    public ulong UnmapFast(ulong iova, ulong size, IotlbGather gather, out PgtableWarning[] warnings)
    {
        warnings = [];
        if (Freed) return 0;
        var unmapped = IommuMapping.Unmap(Pgtable, iova, size, gather);
        warnings = Pgtable.Warnings.Drain();
        return unmapped;
    }

    /// <summary>iommu_iotlb_sync() of a gather <see cref="UnmapFast"/> filled.</summary>
    public void IotlbSyncGather(IotlbGather gather) => IotlbSync(gather);

    /// <summary>ops->flush_iotlb_all: invalidate every translation of the domain and wait (the flush queue's flush).</summary>
    protected internal virtual void FlushIotlbAll() => IotlbSync(WholeRange());

    private IotlbGather WholeRange()
    {
        var gather = new IotlbGather();
        gather.AddRange(0, Pgtable.Ias >= 64 ? ulong.MaxValue : 1UL << Pgtable.Ias);
        return gather;
    }

    // iommu_iova_to_phys: 0 when unmapped (the mock also warns)
    public ulong IovaToPhys(ulong iova, out PgtableWarning[] warnings)
    {
        warnings = [];
        if (Freed) return 0;
        var phys = Pgtable.IovaToPhys(iova);
        warnings = Pgtable.Warnings.Drain();
        return phys;
    }

    /// <summary>ops->iotlb_sync: invalidate the gathered range, wait for completion, then free the gathered table pages.</summary>
    protected internal abstract void IotlbSync(IotlbGather gather);

    /// <summary>ops->iotlb_sync_map: nothing, unless the hardware may cache non-present entries (VT-d caching mode).</summary>
    protected virtual Errno IotlbSyncMap(ulong iova, ulong size) => Errno.OK;
}
