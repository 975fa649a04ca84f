namespace IommuConformance.Properties.ImplementationTests.PageTables;

/// <summary>
/// The test's own picture of a table: disjoint leaves (IOVA, size, PA) grouped by the map call that made them.
/// Written independently of the formats: leaves come from a brute-force best-page-size decomposition.
/// </summary>
internal sealed class IntervalOracle
{
    public readonly record struct Leaf(ulong Iova, ulong Size, ulong Pa, int Record);

    private readonly SortedSet<ulong> _starts = [];
    private readonly Dictionary<ulong, Leaf> _leaves = [];
    private readonly Dictionary<int, (ulong Iova, ulong Size, List<ulong> Leaves)> _records = [];
    private readonly HashSet<int> _intact = [];
    private int _nextRecord;

    public IEnumerable<Leaf> Leaves => _leaves.Values;
    public int Count => _leaves.Count;
    public IReadOnlyCollection<int> IntactRecords => _intact;
    public (ulong Iova, ulong Size) Record(int id) => (_records[id].Iova, _records[id].Size);

    /// <summary>Brute force: at each step the largest size dividing iova and pa that fits.</summary>
    public static List<(ulong Iova, ulong Size, ulong Pa)> Decompose(ulong bitmap, ulong iova, ulong pa, ulong size)
    {
        var list = new List<(ulong, ulong, ulong)>();
        while (size != 0)
        {
            ulong best = 0;
            for (var b = 0; b < 64; b++)
            {
                var s = 1UL << b;
                if ((bitmap & s) != 0 && ((iova | pa) & (s - 1)) == 0 && s <= size) best = s;
            }
            list.Add((iova, best, pa));
            iova += best;
            pa += best;
            size -= best;
        }
        return list;
    }

    public List<Leaf> Overlapping(ulong start, ulong size)
    {
        var last = start + size - 1;
        var found = new List<Leaf>();
        // Leaves are disjoint: only the one starting last before start can reach into the range from the left.
        if (start > 0 && _starts.Count > 0 && _starts.Min < start)
        {
            var before = _starts.GetViewBetween(_starts.Min, start - 1).Max;
            var l = _leaves[before];
            if (l.Iova + l.Size - 1 >= start) found.Add(l);
        }
        if (_starts.Count > 0 && _starts.Max >= start)
            foreach (var s in _starts.GetViewBetween(start, last)) found.Add(_leaves[s]);
        return found;
    }

    public Leaf? At(ulong iova) => Overlapping(iova, 1) is [var l] ? l : null;

    public int NewRecord(ulong iova, ulong size)
    {
        var id = _nextRecord++;
        _records[id] = (iova, size, []);
        _intact.Add(id);
        return id;
    }

    public void Add(Leaf l)
    {
        _starts.Add(l.Iova);
        _leaves[l.Iova] = l;
        _records[l.Record].Leaves.Add(l.Iova);
    }

    /// <summary>Removes a leaf; its map call can no longer be unmapped whole.</summary>
    public void Remove(Leaf l)
    {
        _starts.Remove(l.Iova);
        _leaves.Remove(l.Iova);
        _intact.Remove(l.Record);
        if (!_records[l.Record].Leaves.Any(_leaves.ContainsKey)) _records.Remove(l.Record);
    }

    /// <summary>Removes a whole map call's leaves (an exact unmap, or the unwinding of a failed map).</summary>
    public ulong RemoveRecord(int id)
    {
        foreach (var s in _records[id].Leaves)
            if (_leaves.TryGetValue(s, out var l) && l.Record == id) { _starts.Remove(s); _leaves.Remove(s); }
        _intact.Remove(id);
        var size = _records[id].Size;
        _records.Remove(id);
        return size;
    }

    /// <summary>First and last byte of the map call that made a record (kept while any of its leaves lives).</summary>
    public ulong RecordStartOf(int id) => _records[id].Iova;

    public ulong RecordLastOf(int id) => _records[id].Iova + _records[id].Size - 1;

    public ulong Translate(ulong iova) => At(iova) is { } l ? l.Pa + (iova - l.Iova) : 0;
}
