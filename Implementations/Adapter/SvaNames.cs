using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Adapter;

/// <summary>
/// The trace's process address spaces and bond references by name: an mm is live from <c>mm_new</c> until its
/// <c>mm_exit</c>, a bond reference from its <c>sva_bind</c> until its <c>sva_unbind</c> (several names may hold one
/// shared bond). Played by the test driver that owns the processes and binds; one lock guards both tables.
/// </summary>
public sealed class SvaNames
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, MmStruct> _mms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IommuSva> _bonds = new(StringComparer.Ordinal);
    private int _nextMm;

    public bool TryAddMm(string name, out MmStruct mm)
    {
        lock (_lock)
        {
            mm = new MmStruct(++_nextMm);
            return _mms.TryAdd(name, mm);
        }
    }

    public MmStruct? Mm(string name)
    {
        lock (_lock) return _mms.GetValueOrDefault(name);
    }

    public MmStruct? RemoveMm(string name)
    {
        lock (_lock) return _mms.Remove(name, out var mm) ? mm : null;
    }

    /// <summary>The names of the live mms, in no particular order (a snapshot: the teardown exits them).</summary>
    public IReadOnlyList<string> LiveMmNames()
    {
        lock (_lock) return [.. _mms.Keys];
    }

    public bool IsBondLive(string name)
    {
        lock (_lock) return _bonds.ContainsKey(name);
    }

    public void AddBond(string name, IommuSva bond)
    {
        lock (_lock) _bonds.Add(name, bond);
    }

    public IommuSva? Bond(string name)
    {
        lock (_lock) return _bonds.GetValueOrDefault(name);
    }

    public IommuSva? RemoveBond(string name)
    {
        lock (_lock) return _bonds.Remove(name, out var bond) ? bond : null;
    }

    /// <summary>Every name holding <paramref name="bond"/>, removed (a device's removal drops all its references).</summary>
    public IReadOnlyList<string> RemoveAll(IommuSva bond)
    {
        lock (_lock)
        {
            var names = _bonds.Where(b => ReferenceEquals(b.Value, bond)).Select(b => b.Key).ToList();
            foreach (var n in names) _bonds.Remove(n);
            return names;
        }
    }
}
