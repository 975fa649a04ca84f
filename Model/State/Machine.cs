using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Model.Rules;

namespace IommuConformance.Model.State;

/// <summary>
/// The fixed part of the emulated machine: the global config, the topology, and the driver facts of every
/// registered IOMMU instance. Shared by reference by every state of one run.
/// </summary>
public sealed class Machine
{
    private readonly ImmutableDictionary<string, DeviceSpec> devices;
    private readonly ImmutableDictionary<string, DriverFacts> drivers;

    public Machine(SystemConfig config, Topology topology)
    {
        Config = config;
        Topology = topology;
        var devs = ImmutableDictionary.CreateBuilder<string, DeviceSpec>();
        foreach (var d in topology.Devices) devs.TryAdd(d.Name, d);
        var drvs = ImmutableDictionary.CreateBuilder<string, DriverFacts>();
        foreach (var i in topology.Iommus)
            if (DriverFacts.For(i) is { } facts) drvs.TryAdd(i.Name, facts);
        devices = devs.ToImmutable();
        drivers = drvs.ToImmutable();
    }

    public SystemConfig Config { get; }

    public Topology Topology { get; }

    /// <summary>The device of that name, or null.</summary>
    public DeviceSpec? Device(string name) => devices.GetValueOrDefault(name);

    /// <summary>The driver facts of a registered instance, or null (no such instance, or an unknown driver).</summary>
    public DriverFacts? Driver(string? iommu) => iommu is null ? null : drivers.GetValueOrDefault(iommu);

    /// <summary>The group a device joins when probed: its group key on its instance; null without an IOMMU.</summary>
    public static string? GroupId(DeviceSpec dev) => dev.Iommu is null ? null : $"{dev.Iommu}/{dev.Group}";
}
