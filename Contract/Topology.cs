using System.Collections.Immutable;

namespace IommuConformance.Contract;

/// <summary>Names of the emulated drivers (spec §2).</summary>
public static class DriverNames
{
    public const string Smmuv3 = "smmuv3";
    public const string Mock = "mock";
    public const string Vtd = "vtd";
    public const string Virtio = "virtio";

    /// <summary>Every driver of the contract (trace files may name any; the generator draws machines from all).</summary>
    public static readonly IReadOnlyList<string> All = [Smmuv3, Mock, Vtd, Virtio];
}

/// <summary>Names of the buses a device can sit on.</summary>
public static class BusNames
{
    public const string Pci = "pci";
    public const string Platform = "platform";

    public static readonly IReadOnlyList<string> All = [Pci, Platform];
}

/// <summary>
/// Per-instance knobs; null means "the driver table's default" (spec §5).
/// </summary>
public sealed record IommuOptions(
    bool? DeferredFlush = null,
    bool? IdentityDomain = null,
    bool? Pasid = null,
    int? IotlbEntries = null,
    bool? CachingMode = null,
    bool? Scalable = null)
{
    public static readonly IommuOptions None = new();
}

/// <summary>One IOMMU instance: a name, its driver, its options.</summary>
public sealed record IommuSpec(string Name, string Driver, IommuOptions Options);

/// <summary>
/// One device. <see cref="Iommu"/> null means the device sits behind no IOMMU. Devices with the same
/// <see cref="Group"/> key on the same instance form one group. <see cref="DefDomainType"/> is what the
/// driver's def_domain_type() answers for this device ("identity", "DMA" or null for no preference).
/// </summary>
public sealed record DeviceSpec(
    string Name,
    string Bus,
    string? Iommu,
    string Group,
    int MaxPasids = 0,
    bool Untrusted = false,
    bool RequireDirect = false,
    bool NoDirty = false,
    string? DefDomainType = null);

/// <summary>The machine: IOMMU instances and the devices behind them.</summary>
public sealed record Topology(ImmutableArray<IommuSpec> Iommus, ImmutableArray<DeviceSpec> Devices)
{
    public IommuSpec? FindIommu(string name) => Iommus.FirstOrDefault(i => i.Name == name);

    public DeviceSpec? FindDevice(string name) => Devices.FirstOrDefault(d => d.Name == name);

    public bool Equals(Topology? other) =>
        other is not null && Iommus.SequenceEqual(other.Iommus) && Devices.SequenceEqual(other.Devices);

    public override int GetHashCode() => HashCode.Combine(Iommus.Length, Devices.Length);
}
