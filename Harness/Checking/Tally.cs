namespace IommuConformance.Harness.Checking;

/// <summary>
/// Counts by row and column (operation × outcome, scenario dimension × value), sorted ordinally so that equal tallies
/// print and serialise alike; shard tallies add up to the unsharded one.
/// </summary>
public sealed class Tally
{
    private readonly SortedDictionary<string, SortedDictionary<string, long>> _rows = new(StringComparer.Ordinal);

    public IEnumerable<string> Rows => _rows.Keys;

    public IReadOnlyDictionary<string, long> Row(string row) =>
        _rows.TryGetValue(row, out var r) ? r : new SortedDictionary<string, long>(StringComparer.Ordinal);

    public long this[string row, string column] => _rows.TryGetValue(row, out var r) ? r.GetValueOrDefault(column) : 0;

    public IEnumerable<(string Row, string Column, long Count)> Cells =>
        _rows.SelectMany(r => r.Value.Select(c => (r.Key, c.Key, c.Value)));

    public long Total => _rows.Values.Sum(r => r.Values.Sum());

    public void Add(string row, string column, long count = 1)
    {
        if (!_rows.TryGetValue(row, out var r)) _rows[row] = r = new SortedDictionary<string, long>(StringComparer.Ordinal);
        r[column] = r.GetValueOrDefault(column) + count;
    }

    public void AddAll(Tally other)
    {
        foreach (var (row, column, count) in other.Cells) Add(row, column, count);
    }

    public bool SameAs(Tally other) => Cells.SequenceEqual(other.Cells);
}
