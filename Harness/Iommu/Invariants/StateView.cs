using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// The harness's copy of the implementation's state: every device, live group and live domain, as the
/// implementation's snapshots last showed them, with the reverse indexes the invariants need (who holds a domain,
/// which devices translate through it, which groups hold a key). Updated object by object from what a step
/// touched, or rebuilt from a full snapshot; it never reads live implementation objects.
/// </summary>
public sealed class StateView
{
    private readonly Dictionary<string, DeviceSnapshot> _devices = new(StringComparer.Ordinal);
    private readonly List<string> _deviceOrder = [];
    // Hash maps, not sorted ones: the invariants look objects up many times per step; nothing needs them in id order.
    private readonly Dictionary<int, GroupSnapshot> _groups = [];
    private readonly Dictionary<int, DomainSnapshot> _domains = [];
    private readonly Dictionary<int, HashSet<int>> _holders = [];
    private readonly Dictionary<int, HashSet<string>> _users = [];
    private readonly Dictionary<(string Iommu, string Key), HashSet<int>> _keys = [];

    /// <summary>Duplicate ids or names seen in the last full snapshot loaded (the view keeps the first).</summary>
    public List<string> Duplicates { get; } = [];

    public IReadOnlyList<string> HardwareErrors { get; private set; } = [];

    /// <summary>Counts the changes stored so far (an object stored equal to what the view held is no change).</summary>
    public long Version { get; private set; }

    public int DeviceCount => _deviceOrder.Count;

    public int GroupCount => _groups.Count;

    public int DomainCount => _domains.Count;

    public IEnumerable<DeviceSnapshot> Devices => _deviceOrder.Select(n => _devices[n]);

    public IEnumerable<string> DeviceNames => _deviceOrder;

    public IEnumerable<GroupSnapshot> Groups => _groups.Values;

    public IEnumerable<DomainSnapshot> Domains => _domains.Values;

    public DeviceSnapshot? Device(string name) => _devices.GetValueOrDefault(name);

    public GroupSnapshot? Group(int? id) => id is { } i ? _groups.GetValueOrDefault(i) : null;

    public DomainSnapshot? Domain(int? id) => id is { } i ? _domains.GetValueOrDefault(i) : null;

    /// <summary>The live groups holding the domain as current, default or blocking domain.</summary>
    public IReadOnlyCollection<int> HoldersOf(int domain) => _holders.TryGetValue(domain, out var s) ? s : [];

    /// <summary>Adds the live groups holding the domain to <paramref name="set"/> (without an enumerator on the heap).</summary>
    public void AddHoldersOf(int domain, HashSet<int> set)
    {
        if (_holders.TryGetValue(domain, out var s)) foreach (var g in s) set.Add(g);
    }

    /// <summary>The devices whose hardware context translates through the domain.</summary>
    public IReadOnlyCollection<string> UsersOf(int domain) => _users.TryGetValue(domain, out var s) ? s : [];

    /// <summary>The live groups of that instance and group key.</summary>
    public IReadOnlyCollection<int> GroupsWithKey(string iommu, string key) => _keys.TryGetValue((iommu, key), out var s) ? s : [];

    /// <summary>Replaces everything with a full snapshot.</summary>
    public void Load(SystemSnapshot snapshot)
    {
        _devices.Clear(); _deviceOrder.Clear(); _groups.Clear(); _domains.Clear();
        _holders.Clear(); _users.Clear(); _keys.Clear(); Duplicates.Clear();
        Version++;
        foreach (var d in snapshot.Devices)
            if (_devices.ContainsKey(d.Name)) Duplicates.Add($"device {d.Name} is listed twice");
            else { _deviceOrder.Add(d.Name); SetDevice(d.Name, d); }
        foreach (var g in snapshot.Groups)
            if (_groups.ContainsKey(g.Id)) Duplicates.Add($"group id {g.Id} is used by two live groups");
            else SetGroup(g.Id, g);
        foreach (var d in snapshot.Domains)
            if (_domains.ContainsKey(d.Id)) Duplicates.Add($"domain id {d.Id} is listed twice");
            else SetDomain(d.Id, d);
        HardwareErrors = snapshot.HardwareErrors;
    }

    /// <summary>Whether the snapshot has as many devices, groups and domains as the view (with no duplicates loaded).</summary>
    public bool Holds(SystemSnapshot snapshot) =>
        Duplicates.Count == 0 && snapshot.Devices.Length == DeviceCount && snapshot.Groups.Length == GroupCount
        && snapshot.Domains.Length == DomainCount;

    /// <summary>Stores a device's new snapshot; answers the old one.</summary>
    public DeviceSnapshot? SetDevice(string name, DeviceSnapshot now)
    {
        var old = _devices.GetValueOrDefault(name);
        // Most touched objects are re-read unchanged: the indexes need no update then.
        if (old is not null && old == now) return old;
        Version++;
        if (old is null && !_deviceOrder.Contains(name)) _deviceOrder.Add(name);
        if (old?.Context.DomainId is { } o) Remove(_users, o, name);
        _devices[name] = now;
        if (now.Context.DomainId is { } n) Add(_users, n, name);
        return old;
    }

    /// <summary>Stores (or, with null, removes) a group; answers the old one.</summary>
    public GroupSnapshot? SetGroup(int id, GroupSnapshot? now)
    {
        var old = _groups.GetValueOrDefault(id);
        if (old is not null && old.Equals(now)) return old;
        if (old is not null || now is not null) Version++;
        if (old is not null)
        {
            foreach (var d in Held(old)) Remove(_holders, d, id);
            Remove(_keys, (old.Iommu, old.Key), id);
        }
        if (now is null) _groups.Remove(id);
        else
        {
            _groups[id] = now;
            foreach (var d in Held(now)) Add(_holders, d, id);
            Add(_keys, (now.Iommu, now.Key), id);
        }
        return old;
    }

    /// <summary>Stores (or, with null, removes) a domain; answers the old one.</summary>
    public DomainSnapshot? SetDomain(int id, DomainSnapshot? now)
    {
        var old = _domains.GetValueOrDefault(id);
        if (old == now) return old;
        Version++;
        if (now is null) _domains.Remove(id);
        else _domains[id] = now;
        return old;
    }

    public void SetHardwareErrors(IReadOnlyList<string> errors) => HardwareErrors = errors;

    /// <summary>The domain ids a group points at (current, default, blocking), without repeats.</summary>
    public static HeldDomains Held(GroupSnapshot g) => new(g);

    /// <summary>Adds the domain ids a group points at to <paramref name="set"/>.</summary>
    public static void AddHeld(HashSet<int> set, GroupSnapshot g)
    {
        foreach (var d in Held(g)) set.Add(d);
    }

    /// <summary>How a domain's name reads in messages: <c>#7 DMA-FQ "d1"</c>.</summary>
    public string Describe(int? id) => id switch
    {
        null => "none",
        { } i when _domains.TryGetValue(i, out var d) => d.Handle is null ? $"#{i} {d.Type}" : $"#{i} {d.Type} \"{d.Handle}\"",
        { } i => $"#{i} (not live)",
    };

    public static string Describe(HwContext context) => context.Kind switch
    {
        HwContextKind.Translate => $"translate(#{context.DomainId})",
        _ => context.Kind.ToString().ToLowerInvariant(),
    };

    private static void Add<TKey, TValue>(Dictionary<TKey, HashSet<TValue>> index, TKey key, TValue value) where TKey : notnull
    {
        if (!index.TryGetValue(key, out var set)) index[key] = set = [];
        set.Add(value);
    }

    private static void Remove<TKey, TValue>(Dictionary<TKey, HashSet<TValue>> index, TKey key, TValue value) where TKey : notnull
    {
        // An emptied set stays: domains and keys come back, and re-creating sets was most of a step's garbage.
        if (index.TryGetValue(key, out var set)) set.Remove(value);
    }
}
