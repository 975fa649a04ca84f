using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// The walk behind <see cref="IIoPgtableOps.ReachableTablePages"/>: every table page reachable from a root, read from
/// memory with the hardware's loads (no software state). A page met again is listed again but not descended twice, so
/// a table linked from two entries shows and a corrupted loop ends.
/// </summary>
internal sealed class TableReach(PhysicalMemory memory, Func<ulong, int, bool> isTable, Func<ulong, ulong> tableAddr,
    Func<int, ulong> entriesAt, int lastTableLevel, int levelStep)
{
    private readonly List<ulong> _pages = [];
    private readonly HashSet<ulong> _seen = [];

    /// <summary>
    /// From <paramref name="root"/> at <paramref name="level"/>; levels go by <c>levelStep</c> (+1 for Arm's 0..3, −1
    /// for VT-d's and the mock's top-down numbering) and stop at <c>lastTableLevel</c>, whose entries are all leaves.
    /// </summary>
    public IReadOnlyList<ulong> From(ulong root, int level)
    {
        Visit(root, level);
        return _pages;
    }

    private void Visit(ulong table, int level)
    {
        _pages.Add(table);
        if (!_seen.Add(table) || level == lastTableLevel) return;
        // The table's nonzero entries (an empty one is never a table descriptor), up to an unbacked frame: what comes
        // before it is descended, nothing after it (a table in unbacked memory is listed, not descended).
        var entries = new List<(int Index, ulong Value)>();
        memory.NonzeroWords(table, (int)entriesAt(level), entries);
        foreach (var (_, e) in entries)
            if (isTable(e, level)) Visit(tableAddr(e), level + levelStep);
    }
}
