using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Hardware;

/// <summary>
/// What an IOMMU instance's hardware holds per device: the context it translates through (an SMMUv3 STE, a
/// mock attach record). The hardware keeps the domain object itself, as a real STE keeps the page-table
/// pointer, so it can notice a use-after-free: an entry naming a freed domain is recorded as a hardware error.
/// Entries live in slots; a device's slot is its own unless a table says otherwise (<see cref="SlotOf"/>). Every
/// write reports the device it was made for to the machine's <see cref="TouchedSet"/>.
/// </summary>
public abstract class ContextTable(string instance, HardwareErrorLog errors, TouchedSet? touched)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (HwContextKind Kind, IommuDomain? Domain)> _entries = [];

    public string Instance => instance;

    /// <summary>How the hardware names one slot's entry in an error, e.g. "STE of dev0".</summary>
    protected abstract string EntryOf(string slot);

    /// <summary>The slot holding <paramref name="dev"/>'s entry.</summary>
    protected virtual string SlotOf(string dev) => dev;

    /// <summary>Points the device's entry at <paramref name="domain"/>: abort, bypass or translate by type.</summary>
    public void Install(Device dev, IommuDomain domain)
    {
        var slot = SlotOf(dev.Name);
        if (domain.Freed)
            errors.Add($"{instance}: {EntryOf(slot)} set to translate through freed domain #{domain.Id}");
        var kind = domain.Type switch
        {
            DomainType.Blocked => HwContextKind.Abort,
            DomainType.Identity => HwContextKind.Bypass,
            _ => HwContextKind.Translate,
        };
        lock (_lock) _entries[slot] = (kind, kind == HwContextKind.Translate ? domain : null);
        touched?.Device(dev.Name);
    }

    /// <summary>Removes the device's entry: the hardware no longer knows the device.</summary>
    public void Remove(Device dev)
    {
        lock (_lock) _entries.Remove(SlotOf(dev.Name));
        touched?.Device(dev.Name);
    }

    /// <summary>The device's entry, as the snapshot shows it.</summary>
    public HwContext Read(string dev)
    {
        lock (_lock)
            return _entries.TryGetValue(SlotOf(dev), out var e) ? new HwContext(e.Kind, e.Domain?.Id) : HwContext.None;
    }

    /// <summary>Called when <paramref name="domain"/> is freed: every entry still using it is a use-after-free.</summary>
    public void CheckFreed(IommuDomain domain)
    {
        List<string> users;
        lock (_lock)
            users = [.. _entries.Where(e => ReferenceEquals(e.Value.Domain, domain)).Select(e => e.Key).Order(StringComparer.Ordinal)];
        foreach (var slot in users)
            errors.Add($"{instance}: {EntryOf(slot)} still translates through freed domain #{domain.Id}");
    }
}

/// <summary>The hardware errors of one machine, in the order they were detected.</summary>
public sealed class HardwareErrorLog
{
    private readonly Lock _lock = new();
    private readonly List<string> _errors = [];

    public void Add(string error)
    {
        lock (_lock) _errors.Add(error);
    }

    public IReadOnlyList<string> All
    {
        get { lock (_lock) return _errors.Count == 0 ? [] : [.. _errors]; }
    }
}

/// <summary>All the context tables of one machine: a freed domain may still sit in any of them.</summary>
public sealed class HardwarePlatform
{
    private readonly List<ContextTable> _tables = [];

    public HardwareErrorLog Errors { get; } = new();

    public void Add(ContextTable table) => _tables.Add(table);

    /// <summary>ops->free hook: report every entry, on any instance, that still uses the domain.</summary>
    public void DomainFreed(IommuDomain domain)
    {
        foreach (var table in _tables) table.CheckFreed(domain);
    }
}
