namespace IommuConformance.Implementations.Iova;

/// <summary>The allocator's WARN sites; after each the code goes on exactly as the kernel does after the splat.</summary>
public enum IovaWarning
{
    /// <summary>iova_insert_rbtree: WARN_ON(1) for a pfn_lo already in the tree; the node is not inserted.</summary>
    InsertDuplicate,
    /// <summary>iova_magazine_free_pfns: WARN_ON(!iova): a cached pfn with no tree node (skipped).</summary>
    MagazinePfnNotInTree,
    /// <summary>reserve_iova: WARN_ON(pfns past dma_addr_t after the shift), then NULL.</summary>
    ReserveNonsensicalPfns,
    /// <summary>
    /// Not a kernel WARN: an allocation of size 0, where the kernel's fls_long(size - 1) shift is undefined. Refused
    /// (no IOVA) so the result is defined; dma-iommu never asks for 0 granules.
    /// </summary>
    ZeroSize,
}

/// <summary>Collects the warnings an IOVA domain raises, in order.</summary>
public sealed class IovaWarnings
{
    private readonly Lock _lock = new();
    private readonly List<IovaWarning> _raised = [];

    public void Warn(IovaWarning warning)
    {
        lock (_lock) _raised.Add(warning);
    }

    /// <summary>Every warning raised so far, in order.</summary>
    public IReadOnlyList<IovaWarning> All
    {
        get { lock (_lock) return [.. _raised]; }
    }

    /// <summary>The warnings raised so far, then forgets them.</summary>
    public IReadOnlyList<IovaWarning> Take()
    {
        lock (_lock)
        {
            IovaWarning[] taken = [.. _raised];
            _raised.Clear();
            return taken;
        }
    }
}
