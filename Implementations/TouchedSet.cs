namespace IommuConformance.Implementations;

/// <summary>
/// What the last <see cref="IommuSystem.Execute"/> may have changed, recorded where the state is written (group and
/// device fields, hardware context entries, domain creation, type change and free, handle names), not per
/// operation. Over-reporting is allowed; an unreported change is a bug the harness's periodic full sweeps catch.
/// Ids are snapshot ids: devices by name, groups and domains by id. The collections are live views, valid until
/// the next <see cref="IommuSystem.Execute"/> (the harness reads them right after each step, from the same thread).
/// </summary>
public sealed class TouchedSet
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _devices = new(StringComparer.Ordinal);
    private readonly HashSet<int> _groups = [];
    private readonly HashSet<int> _domains = [];

    /// <summary>A set with these members (for systems that compute what they touched some other way).</summary>
    public static TouchedSet Of(IEnumerable<string> devices, IEnumerable<int> groups, IEnumerable<int> domains)
    {
        var set = new TouchedSet();
        set._devices.UnionWith(devices);
        set._groups.UnionWith(groups);
        set._domains.UnionWith(domains);
        return set;
    }

    /// <summary>Devices whose <see cref="DeviceSnapshot"/> may differ: group, driver binding, hardware context.</summary>
    public IReadOnlyCollection<string> Devices
    {
        get { lock (_lock) return _devices; }
    }

    /// <summary>Groups whose <see cref="GroupSnapshot"/> may differ, including groups created or freed.</summary>
    public IReadOnlyCollection<int> Groups
    {
        get { lock (_lock) return _groups; }
    }

    /// <summary>Domains whose <see cref="DomainSnapshot"/> may differ, including domains created or freed.</summary>
    public IReadOnlyCollection<int> Domains
    {
        get { lock (_lock) return _domains; }
    }

    internal void Device(string name)
    {
        lock (_lock) _devices.Add(name);
    }

    internal void Group(int id)
    {
        lock (_lock) _groups.Add(id);
    }

    internal void Domain(int id)
    {
        lock (_lock) _domains.Add(id);
    }

    internal void Clear()
    {
        lock (_lock)
        {
            _devices.Clear();
            _groups.Clear();
            _domains.Clear();
        }
    }
}
