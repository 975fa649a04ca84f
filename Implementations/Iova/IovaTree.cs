namespace IommuConformance.Implementations.Iova;

/// <summary>
/// The iova_domain's rbtree as a BCL <see cref="SortedSet{T}"/> ordered by pfn_lo. SortedSet has no node handles,
/// so rb_prev/rb_next become bounded views: each lookup is O(log n) (GetViewBetween finds its range root and
/// counts nothing until Count is read), and a downward walk from a node is one reversed view, O(log n) to set
/// up and amortised O(1) per step, as the kernel's rb_prev chain is. See docs/iova.md for the measurements.
/// </summary>
internal sealed class IovaTree
{
    private static readonly Iova Bottom = new(0, 0);   // a bound only: compares equal to a node at pfn 0, inclusive

    private readonly SortedSet<Iova> _set = new(IovaPfnLoComparer.Instance);

    public int Count => _set.Count;

    /// <summary>rb_link_node + rb_insert_color; false if a node with the same pfn_lo is already there.</summary>
    public bool Insert(Iova iova) => _set.Add(iova);

    /// <summary>rb_erase; false if this very node is not in the tree.</summary>
    public bool Erase(Iova iova) => _set.TryGetValue(iova, out var found) && ReferenceEquals(found, iova) && _set.Remove(iova);

    /// <summary>The nodes from <paramref name="start"/> (included) downwards: start, rb_prev(start), ...</summary>
    public IEnumerable<Iova> WalkDown(Iova start) => _set.GetViewBetween(Bottom, start).Reverse();

    /// <summary>rb_next(node): the node above, or null.</summary>
    public Iova? Next(Iova node) =>
        node.PfnLo == ulong.MaxValue ? null : Min(_set.GetViewBetween(new Iova(node.PfnLo + 1, 0), new Iova(ulong.MaxValue, 0)));

    /// <summary>The node with the highest pfn_lo ≤ <paramref name="pfn"/>, or null: the only node that can contain pfn.</summary>
    public Iova? Floor(ulong pfn) => Max(_set.GetViewBetween(Bottom, new Iova(pfn, 0)));

    /// <summary>The node with the lowest pfn_lo ≥ <paramref name="pfn"/>, or null.</summary>
    public Iova? Ceiling(ulong pfn) => Min(_set.GetViewBetween(new Iova(pfn, 0), new Iova(ulong.MaxValue, 0)));

    /// <summary>In-order walk (rb_first, rb_next, ...). Callers that change the tree take a copy first.</summary>
    public IEnumerable<Iova> InOrder() => _set;

    public void Clear() => _set.Clear();

    // A view's Min/Max is default (null) when the view is empty, without counting it.
    private static Iova? Min(SortedSet<Iova> view) => view.Min;

    private static Iova? Max(SortedSet<Iova> view) => view.Max;
}
