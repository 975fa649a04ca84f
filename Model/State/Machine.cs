using IommuConformance.Contract;
using IommuConformance.Model.Rules;

namespace IommuConformance.Model.State;

/// <summary>
/// The fixed part of the emulated machine: the global config, the topology, and the driver facts of every
/// registered IOMMU instance. Shared by reference by every state of one run.
/// </summary>
public sealed class Machine
{
    // Built once, never written after: read-only dictionaries are as immutable as the states that share them.
    private readonly Dictionary<string, DeviceSpec> devices;
    private readonly Dictionary<string, DriverFacts> drivers;
    private readonly Dictionary<string, string> groupIds;   // device → group id, for devices behind an IOMMU

    public Machine(SystemConfig config, Topology topology)
    {
        Config = config;
        Topology = topology;
        var devs = new Dictionary<string, DeviceSpec>(StringComparer.Ordinal);
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in topology.Devices)
            if (devs.TryAdd(d.Name, d) && GroupId(d) is { } id) ids.Add(d.Name, id);
        var drvs = new Dictionary<string, DriverFacts>(StringComparer.Ordinal);
        foreach (var i in topology.Iommus)
            if (DriverFacts.For(i) is { } facts) drvs.TryAdd(i.Name, facts);
        devices = devs;
        drivers = drvs;
        groupIds = ids;
    }

    public SystemConfig Config { get; }

    public Topology Topology { get; }

    /// <summary>The device of that name, or null.</summary>
    public DeviceSpec? Device(string name) => devices.GetValueOrDefault(name);

    /// <summary>The driver facts of a registered instance, or null (no such instance, or an unknown driver).</summary>
    public DriverFacts? Driver(string? iommu) => iommu is null ? null : drivers.GetValueOrDefault(iommu);

    /// <summary>The group a device joins when probed: its group key on its instance; null without an IOMMU.</summary>
    public static string? GroupId(DeviceSpec dev) => dev.Iommu is null ? null : $"{dev.Iommu}/{dev.Group}";

    /// <summary>The group id of a device of this machine (<see cref="GroupId(DeviceSpec)"/>, computed once); null without an IOMMU.</summary>
    public string? GroupIdOf(string dev) => groupIds.GetValueOrDefault(dev);
}
