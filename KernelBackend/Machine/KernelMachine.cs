using System.Collections.Immutable;
using IommuConformance.Contract;

namespace IommuConformance.KernelBackend.Machine;

/// <summary>One device of the fixed machine: its trace spec, where the guest sees it, and its kernel driver if any.</summary>
/// <param name="QemuDevice">The <c>-device</c> argument that creates it.</param>
/// <param name="Driver">The DMA-API PCI driver <c>driver_bind</c> binds; null: none (edu has only vfio-pci).</param>
/// <param name="Bridge">A bridge: removing it would remove what is behind it, so it is never removed.</param>
public sealed record KernelDevice(DeviceSpec Spec, string Bdf, string QemuDevice, string? Driver, bool Bridge = false)
{
    /// <summary>edu devices stand in for a group's VFIO user: only they are ever bound to vfio-pci.</summary>
    public bool VfioStandIn => Driver is null && !Bridge;
}

/// <summary>
/// The one machine the kernel back-end boots (docs/real-kernel.md): QEMU q35 with an emulated VT-d, an e1000e, a
/// virtio-net, an edu, and a PCIe-to-PCI bridge with an edu and an e1000 behind it (one IOMMU group of three with the
/// bridge). As a trace machine: one instance on the smmuv3 driver, whose table matches VT-d for this slice (static
/// identity and blocked domains, deferred flush, a blocked release domain), and the global default DMA (strict:
/// `iommu=nopt`, and VT-d with caching mode forces strict). Device i of a trace is device i here, whatever its name.
/// </summary>
public static class KernelMachine
{
    public const string Iommu = "vtd";

    public static readonly ImmutableArray<KernelDevice> Devices =
    [
        new(new DeviceSpec("dev0", BusNames.Pci, Iommu, "g0"), "0000:00:01.0", "e1000e", "e1000e"),
        new(new DeviceSpec("dev1", BusNames.Pci, Iommu, "g1"), "0000:00:02.0", "virtio-net-pci", "virtio-pci"),
        new(new DeviceSpec("dev2", BusNames.Pci, Iommu, "g2"), "0000:00:03.0", "edu", null),
        new(new DeviceSpec("dev3", BusNames.Pci, Iommu, "g3"), "0000:00:04.0", "pcie-pci-bridge,id=br1", null, Bridge: true),
        new(new DeviceSpec("dev4", BusNames.Pci, Iommu, "g3"), "0000:01:00.0", "edu,bus=br1", null),
        new(new DeviceSpec("dev5", BusNames.Pci, Iommu, "g3"), "0000:01:01.0", "e1000,bus=br1", "e1000"),
    ];

    public static readonly SystemConfig Config = new(Cpus: 1, DefaultDomain: DefaultDomainType.Dma);

    public static readonly Topology Topology = new([new IommuSpec(Iommu, DriverNames.Smmuv3, IommuOptions.None)], [.. Devices.Select(d => d.Spec)]);

    /// <summary>
    /// Why a trace's machine is not this one (null when it is): same config, one smmuv3 instance with default options,
    /// the same devices in the same order (names free) with the same flags and the same grouping.
    /// </summary>
    public static string? Mismatch(SystemConfig config, Topology topology)
    {
        if (config with { Era = Config.Era } != Config) return $"config must be {{cpus: {Config.Cpus}, defaultDomain: DMA}} (the guest: -smp 1, iommu=nopt)";
        if (topology.Iommus.Length != 1 || topology.Iommus[0].Driver != DriverNames.Smmuv3 || topology.Iommus[0].Options != IommuOptions.None)
            return "the machine has one IOMMU instance, driver smmuv3, no options (VT-d as this slice sees it)";
        if (topology.Devices.Length != Devices.Length)
            return $"the machine has {Devices.Length} devices ({Describe()}), the trace {topology.Devices.Length}";
        var iommu = topology.Iommus[0].Name;
        for (var i = 0; i < Devices.Length; i++)
        {
            var want = Devices[i].Spec with { Name = topology.Devices[i].Name, Iommu = iommu, Group = topology.Devices[i].Group };
            if (topology.Devices[i] != want) return $"device {i} ({topology.Devices[i].Name}) must be {Describe(i)} with no flags";
            for (var j = 0; j < i; j++)
                if ((Devices[i].Spec.Group == Devices[j].Spec.Group) != (topology.Devices[i].Group == topology.Devices[j].Group))
                    return $"devices {j} and {i} must {(Devices[i].Spec.Group == Devices[j].Spec.Group ? "share" : "not share")} a group";
        }
        return null;
    }

    private static string Describe() => string.Join(", ", Enumerable.Range(0, Devices.Length).Select(Describe));

    private static string Describe(int i) => $"{Devices[i].QemuDevice.Split(',')[0]} at {Devices[i].Bdf}";
}
