using IommuConformance.Contract;

namespace IommuConformance.Implementations.Iova;

/// <summary>The tree allocator: alloc_iova, find_iova, free_iova, reserve_iova, put_iova_domain and their workers.</summary>
public sealed partial class IovaDomain
{
    /// <summary>
    /// alloc_iova() - a range of <paramref name="size"/> granules in [StartPfn, <paramref name="limitPfn"/>],
    /// searched top-down; with <paramref name="sizeAligned"/> its pfn_lo is aligned to roundup_pow_of_two(size).
    /// Return: the new node, or null (no node memory, or no room: the search then records max32_alloc_size).
    /// </summary>
    public Iova? AllocIova(ulong size, ulong limitPfn, bool sizeAligned)
    {
        EnsureLive();
        if (size == 0)
        {
            WarnOn(IovaWarning.ZeroSize);
            return null;
        }
        var newIova = AllocIovaMem();
        if (newIova is null) return null;
        if (AllocAndInsertIovaRange(size, limitPfn + 1, newIova, sizeAligned) != Errno.OK)
        {
            FreeIovaMem(newIova);
            return null;
        }
        return newIova;
    }

    // __alloc_and_insert_iova_range(): limitPfn is one past the highest usable pfn here.
    private Errno AllocAndInsertIovaRange(ulong size, ulong limitPfn, Iova newIova, bool sizeAligned)
    {
        var alignMask = ~0UL;
        if (sizeAligned) alignMask <<= FlsLong(size - 1);
        ulong highPfn = limitPfn, lowPfn = StartPfn, newPfn;

        lock (_iovaRbtreeLock)
        {
            if (limitPfn <= Dma32BitPfn && size >= Max32AllocSize) return Errno.ENOMEM;   // iova32_full
            Iova? curr = GetCachedRbnodeLocked(limitPfn);
            // Seeded bug alloc_iova_no_overflow_guard (dcdb3ba7e2a8 undone): retry_pfn = pfn_hi + 1, which wraps to 0
            // on the anchor, so the retry searches down to pfn 0, below start_pfn.
            var retryPfn = NoOverflowGuard ? curr.PfnHi + 1 : curr.PfnHi;
            var retried = false;
            while (true)
            {
                // Walk down from curr: each node caps the gap's top; stop at the first gap the aligned range fits.
                using var below = _tree.WalkDown(curr!).GetEnumerator();
                below.MoveNext();
                do
                {
                    highPfn = Math.Min(highPfn, curr!.PfnLo);
                    newPfn = (highPfn - size) & alignMask;   // wraps when highPfn < size: the guard below catches it
                    curr = below.MoveNext() ? below.Current : null;
                } while (curr is not null && newPfn <= curr.PfnHi && newPfn >= lowPfn);

                // "iommu/iova: Fix alloc iova overflows issue" (dcdb3ba7e2a8) added the highPfn < size guard.
                if ((NoOverflowGuard || highPfn >= size) && newPfn >= lowPfn) break;
                if (lowPfn == StartPfn && retryPfn < limitPfn)
                {
                    // The cached start skipped the space above it: search that once, from the limit down.
                    if (retried) throw new IovaOopsException("__alloc_and_insert_iova_range retries forever (cached node ends below start_pfn)");
                    retried = true;
                    highPfn = limitPfn;
                    lowPfn = NoOverflowGuard ? retryPfn : retryPfn + 1;
                    curr = IovaFindLimitLocked(limitPfn);
                    continue;
                }
                Max32AllocSize = size;
                return Errno.ENOMEM;
            }

            newIova.PfnLo = newPfn;
            newIova.PfnHi = newPfn + size - 1;
            IovaInsertRbtreeLocked(newIova);
            CachedRbnodeInsertUpdateLocked(newIova);
            return Errno.OK;
        }
    }

    // __get_cached_rbnode()
    private Iova GetCachedRbnodeLocked(ulong limitPfn)
    {
        AssertRbtreeLocked();
        return limitPfn <= Dma32BitPfn ? Cached32Node : CachedNode;
    }

    // __cached_rbnode_insert_update()
    private void CachedRbnodeInsertUpdateLocked(Iova newIova)
    {
        AssertRbtreeLocked();
        if (newIova.PfnHi < Dma32BitPfn) Cached32Node = newIova;
        else CachedNode = newIova;
    }

    // __cached_rbnode_delete_update(): a cached node at or below the freed one moves up past it, and any free below
    // 4 GiB re-opens the 32-bit space to every size.
    private void CachedRbnodeDeleteUpdateLocked(Iova free)
    {
        AssertRbtreeLocked();
        var cached = Cached32Node;
        if (free == cached || (free.PfnHi < Dma32BitPfn && free.PfnLo >= cached.PfnLo))
            Cached32Node = _tree.Next(free) ?? _anchor;
        if (free.PfnLo < Dma32BitPfn) Max32AllocSize = Dma32BitPfn;
        cached = CachedNode;
        if (free.PfnLo >= cached.PfnLo) CachedNode = _tree.Next(free) ?? _anchor;
    }

    // iova_find_limit(): where the retry starts. The kernel descends to some node at or above limitPfn (the anchor
    // when the limit is above 4 GiB); any such node gives the same walk result, and this is the lowest one.
    private Iova IovaFindLimitLocked(ulong limitPfn)
    {
        AssertRbtreeLocked();
        if (limitPfn > Dma32BitPfn) return _anchor;
        return _tree.Ceiling(limitPfn) ?? _anchor;
    }

    // iova_insert_rbtree(): a duplicate pfn_lo is WARNed and the node left out (its caller still reports success).
    private void IovaInsertRbtreeLocked(Iova iova)
    {
        AssertRbtreeLocked();
        if (!_tree.Insert(iova)) WarnOn(IovaWarning.InsertDuplicate);
    }

    // private_find_iova(): the node containing pfn, or null.
    private Iova? PrivateFindIovaLocked(ulong pfn)
    {
        AssertRbtreeLocked();
        var node = _tree.Floor(pfn);
        return node is not null && pfn <= node.PfnHi ? node : null;
    }

    // remove_iova()
    private void RemoveIovaLocked(Iova iova)
    {
        AssertRbtreeLocked();
        CachedRbnodeDeleteUpdateLocked(iova);
        _tree.Erase(iova);
    }

    /// <summary>find_iova() - the node containing <paramref name="pfn"/>, or null.</summary>
    public Iova? FindIova(ulong pfn)
    {
        EnsureLive();
        lock (_iovaRbtreeLock) return PrivateFindIovaLocked(pfn);
    }

    /// <summary>
    /// __free_iova() - frees a node this domain handed out. A node no longer in the tree is a double free: in the
    /// kernel rb_erase of an unlinked node corrupts the tree, here it is an oops.
    /// </summary>
    public void FreeIova(Iova iova)
    {
        EnsureLive();
        lock (_iovaRbtreeLock)
        {
            if (!ReferenceEquals(_tree.Floor(iova.PfnLo), iova) || iova == _anchor)
                throw new IovaOopsException($"__free_iova of {iova}, which is not in the tree (double free)");
            RemoveIovaLocked(iova);
        }
        FreeIovaMem(iova);
    }

    /// <summary>free_iova() - frees the node containing <paramref name="pfn"/>; an unknown pfn is silently ignored.</summary>
    public void FreeIova(ulong pfn)
    {
        EnsureLive();
        Iova? iova;
        lock (_iovaRbtreeLock)
        {
            iova = PrivateFindIovaLocked(pfn);
            if (iova is null || iova == _anchor) return;
            RemoveIovaLocked(iova);
        }
        FreeIovaMem(iova);
    }

    /// <summary>
    /// reserve_iova() - keeps [<paramref name="pfnLo"/>, <paramref name="pfnHi"/>] from being handed out. Overlapped
    /// nodes (allocated ones included) are stretched down over the request's gaps; what is left above the last
    /// one becomes a new node. Return: the node covering the request's top, or null (pfns past dma_addr_t after
    /// the shift: WARN; no node memory: the nodes already stretched stay stretched).
    /// </summary>
    public Iova? ReserveIova(ulong pfnLo, ulong pfnHi)
    {
        EnsureLive();
        if ((pfnHi | pfnLo) > (ulong.MaxValue >> IovaShift))   // "Don't allow nonsensical pfns"
        {
            WarnOn(IovaWarning.ReserveNonsensicalPfns);
            return null;
        }
        lock (_iovaRbtreeLock)
        {
            var overlap = false;
            foreach (var node in _tree.InOrder())   // rb_first, rb_next, ...: nodes change in place, none is added
            {
                if (IsRangeOverlap(node, pfnLo, pfnHi))
                {
                    AdjustOverlapRange(node, ref pfnLo, pfnHi);
                    if (pfnLo >= node.PfnLo && pfnHi <= node.PfnHi) return node;
                    overlap = true;
                }
                else if (overlap)
                {
                    break;
                }
            }
            return InsertNewRangeLocked(pfnLo, pfnHi);
        }
    }

    // __is_range_overlap()
    private static bool IsRangeOverlap(Iova node, ulong pfnLo, ulong pfnHi) => pfnLo <= node.PfnHi && pfnHi >= node.PfnLo;

    // __adjust_overlap_range(): stretch the node down to the request, and carry the request on above the node.
    private static void AdjustOverlapRange(Iova iova, ref ulong pfnLo, ulong pfnHi)
    {
        if (pfnLo < iova.PfnLo) iova.PfnLo = pfnLo;
        if (pfnHi > iova.PfnHi) pfnLo = iova.PfnHi + 1;
    }

    // __insert_new_range(): alloc_and_init_iova + iova_insert_rbtree from the root (no cached-node update).
    private Iova? InsertNewRangeLocked(ulong pfnLo, ulong pfnHi)
    {
        AssertRbtreeLocked();
        var iova = AllocIovaMem();
        if (iova is null) return null;
        iova.PfnLo = pfnLo;
        iova.PfnHi = pfnHi;
        IovaInsertRbtreeLocked(iova);
        return iova;
    }

    /// <summary>
    /// put_iova_domain() - frees the rcaches (their magazines, not their pfns: those are tree nodes) and every node.
    /// The domain is dead afterwards; any further use is an oops.
    /// </summary>
    public void PutIovaDomain()
    {
        EnsureLive();
        if (_rcaches is not null) IovaDomainFreeRcaches();
        lock (_iovaRbtreeLock)
        {
            foreach (var iova in _tree.InOrder()) FreeIovaMem(iova);   // rbtree_postorder_for_each_entry_safe
            _tree.Clear();
        }
        _put = true;
    }
}
