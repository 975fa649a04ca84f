namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// The WARN sites of the page-table code. Drivers map them to the contract's warning names (Contract/Warn.cs);
/// the operation then goes on exactly as the kernel does after the splat.
/// </summary>
public enum PgtableWarning
{
    /// <summary>arm_lpae_map_pages: WARN_ON(!pgsize || pgsize not in the bitmap), then -EINVAL.</summary>
    ArmMapBadPgsize,
    /// <summary>arm_lpae_map_pages: WARN_ON(iova past IAS || paddr past OAS), then -ERANGE.</summary>
    ArmMapRange,
    /// <summary>arm_lpae_init_pte / __arm_lpae_map: "We require an unmap first", then -EEXIST.</summary>
    ArmMapExists,
    /// <summary>arm_lpae_unmap_pages: WARN_ON(bad pgsize, pgcount 0 or iova past IAS), then 0.</summary>
    ArmUnmapBadArgs,
    /// <summary>__arm_lpae_unmap: WARN_ON(!pte): unmap of an empty entry, then 0 (or the bytes before it).</summary>
    ArmUnmapEmpty,
    /// <summary>__arm_lpae_unmap: WARN_ONCE "Unmap of a partial large IOPTE is not allowed", then 0.</summary>
    ArmUnmapPartialLarge,
    /// <summary>generic_pt map_pages: WARN_ON(!(prot &amp; (IOMMU_READ | IOMMU_WRITE))), then -EINVAL.</summary>
    PtMapNoAccess,
    /// <summary>mock_domain_map_pages: WARN_ON(old): a slot was already mapped (it is overwritten).</summary>
    MockMapOverwrite,
    /// <summary>mock_domain_unmap_pages: WARN_ON(!ent): a slot in the range was not mapped.</summary>
    MockUnmapEmpty,
    /// <summary>mock_domain_unmap_pages: the first slot is not the first IOVA of a map_pages call.</summary>
    MockUnmapNotStart,
    /// <summary>mock_domain_unmap_pages: the last slot is not the last IOVA of a map_pages call.</summary>
    MockUnmapNotLast,
    /// <summary>mock_domain_iova_to_phys: WARN_ON(!ent).</summary>
    MockIovaToPhysUnmapped,
    /// <summary>mock_domain_free: WARN_ON(!xa_empty): mappings left at domain free.</summary>
    MockFreeNotEmpty,
}

/// <summary>Collects the warnings a page table raises, in order.</summary>
public sealed class PgtableWarnings
{
    private readonly List<PgtableWarning> _raised = [];

    public IReadOnlyList<PgtableWarning> Raised => _raised;

    public void Raise(PgtableWarning warning) => _raised.Add(warning);

    /// <summary>Returns and forgets what was raised since the last call (one operation's warnings).</summary>
    public PgtableWarning[] Drain()
    {
        var all = _raised.ToArray();
        _raised.Clear();
        return all;
    }
}
