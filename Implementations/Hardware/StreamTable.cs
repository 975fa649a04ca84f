using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Hardware;

/// <summary>
/// An SMMUv3 stream table: one STE per stream (device): abort for a blocked domain, bypass for identity,
/// translate through the domain's page table otherwise. Only the fields this slice observes are kept. A device's
/// stream id is its index among the instance's devices in topology order (<see cref="AssignStreams"/>).
/// </summary>
public sealed class StreamTable(string instance, HardwareErrorLog errors, TouchedSet? touched = null, bool aliasing = false)
    : ContextTable(instance, errors, touched)
{
    /// <summary>Slots of the seeded bug stream_table_alias: a linear table sized for two streams.</summary>
    public const int AliasedSlots = 2;

    private readonly Dictionary<string, int> _streamIds = new(StringComparer.Ordinal);

    /// <summary>Gives each device behind this instance its stream id, in topology order.</summary>
    public void AssignStreams(IEnumerable<Device> devices)
    {
        foreach (var dev in devices) _streamIds[dev.Name] = _streamIds.Count;
    }

    public int? StreamIdOf(string dev) => _streamIds.TryGetValue(dev, out var sid) ? sid : null;

    // Seeded bug stream_table_alias: the table is indexed by stream id modulo its (too small) size, so devices
    // whose ids collide share one STE; writing one overwrites the others without the driver knowing.
    protected override string SlotOf(string dev) =>
        aliasing && StreamIdOf(dev) is { } sid ? $"stream {sid % AliasedSlots}" : dev;

    protected override string EntryOf(string slot) => $"STE of {slot}";
}

/// <summary>The mock "hardware": per device, the domain mock_domain_nop_attach() last accepted.</summary>
public sealed class MockRecords(string instance, HardwareErrorLog errors, TouchedSet? touched = null) : ContextTable(instance, errors, touched)
{
    protected override string EntryOf(string slot) => $"attach record of {slot}";
}
