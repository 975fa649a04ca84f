namespace IommuConformance.Implementations.Iova;

/// <summary>
/// struct iova_magazine: up to <see cref="IovaMagSize"/> cached pfns of one size bin, a stack with a swap-out pop.
/// In the kernel <c>size</c> and the depot's <c>next</c> share a union (only full magazines enter the depot, and
/// iova_depot_pop writes the size back as full); here they are two fields, so a snapshot of the depot still shows
/// each magazine's real fill (invariant c.16) while the pop keeps the kernel's "set it to full" behaviour.
/// </summary>
public sealed class IovaMagazine
{
    /// <summary>
    /// IOVA_MAG_SIZE: 127 pfns plus the size/next word make the magazine exactly 1 KiB, a kmalloc size class
    /// (it was 128 before "iommu/iova: Make the rcache depot scale better").
    /// </summary>
    public const int IovaMagSize = 127;

    // Slots above Size keep whatever they held before, as the kernel's do. The slots are made at the first push: most
    // magazines a domain's rcaches allocate are never filled, and 1 KiB each of them is most of a trace's allocation.
    private ulong[]? _pfns;

    internal ulong[] Pfns => _pfns ??= new ulong[IovaMagSize];

    public int Size { get; internal set; }

    /// <summary>The depot's singly linked list (the union's other half).</summary>
    internal IovaMagazine? Next { get; set; }

    /// <summary>iova_magazine_full().</summary>
    public bool Full => Size == IovaMagSize;

    /// <summary>iova_magazine_empty().</summary>
    public bool Empty => Size == 0;

    /// <summary>The cached pfns, bottom of the stack first.</summary>
    public IReadOnlyList<ulong> CachedPfns => Size == 0 ? [] : Pfns[..Size];

    /// <summary>
    /// iova_magazine_pop(): the topmost pfn ≤ <paramref name="limitPfn"/>, scanning down from the top, swapped out
    /// with the top entry; 0 if none fits ("only fall back to the rbtree if we have no suitable pfns at all").
    /// </summary>
    internal ulong Pop(ulong limitPfn)
    {
        if (Empty) throw new IovaOopsException("iova_magazine_pop on an empty magazine reads pfns[-1]");
        var i = Size - 1;
        while (Pfns[i] > limitPfn)
        {
            if (i == 0) return 0;
            i--;
        }
        var pfn = Pfns[i];
        Pfns[i] = Pfns[--Size];
        return pfn;
    }

    /// <summary>iova_magazine_push(): the caller has checked the magazine is not full.</summary>
    internal void Push(ulong pfn)
    {
        if (Full) throw new IovaOopsException("iova_magazine_push past IOVA_MAG_SIZE overruns the magazine");
        Pfns[Size++] = pfn;
    }
}
