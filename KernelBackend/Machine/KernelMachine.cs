using System.Collections.Immutable;
using System.Globalization;
using IommuConformance.Contract;

namespace IommuConformance.KernelBackend.Machine;

/// <summary>One device of a kernel machine: its trace spec, where the guest sees it, and its kernel driver if any.</summary>
/// <param name="QemuDevice">The <c>-device</c> argument that creates it.</param>
/// <param name="Driver">The DMA-API PCI driver <c>driver_bind</c> binds; null: none (edu has only vfio-pci).</param>
/// <param name="Bridge">A bridge: removing it would remove what is behind it, so it is never removed.</param>
public sealed record KernelDevice(DeviceSpec Spec, string Bdf, string QemuDevice, string? Driver, bool Bridge = false)
{
    /// <summary>edu devices stand in for a group's VFIO user: only they are ever bound to vfio-pci.</summary>
    public bool VfioStandIn => Driver is null && !Bridge;
}

/// <summary>
/// A machine the kernel back-end boots, built from a trace's topology (docs/real-kernel.md "Machines"): QEMU q35 with
/// an emulated VT-d; a group of one device is a PCI device on the root complex (VT-d gives it a group of its own); a
/// group of k ≥ 2 devices is a <c>pcie-pci-bridge</c> (its first device) with the other k − 1 behind it (conventional
/// PCI behind a PCIe-to-PCI bridge aliases to the bridge: one group). Kinds are positional: the j-th root device is
/// <c>e1000e</c>, <c>virtio-net-pci</c>, <c>edu</c> (j mod 3); the m-th device behind a bridge <c>edu</c>, <c>e1000</c>
/// (m mod 2). The fixed machine of the earlier traces (<see cref="Fixed"/>) is one such machine:
/// three groups of one and a group of three. As a trace machine: config <c>{cpus: 1, defaultDomain: DMA}</c> (any
/// era), one smmuv3 instance without options, PCI devices without flags. Device i of a trace is device i here.
/// </summary>
public sealed class KernelMachine
{
    public const string Iommu = "vtd";

    /// <summary>q35's root bus: slot 0 is the host bridge, 0x1f the ICH9 functions; slots 1 to 30 are free.</summary>
    public const int MaxRootDevices = 30;

    /// <summary>A pcie-pci-bridge has 32 slots; the bridge itself is a member of the group.</summary>
    public const int MaxGroupSize = 33;

    public static readonly SystemConfig Config = new(Cpus: 1, DefaultDomain: DefaultDomainType.Dma);

    private static readonly (string Qemu, string? Driver)[] RootKinds = [("e1000e", "e1000e"), ("virtio-net-pci", "virtio-pci"), ("edu", null)];
    private static readonly (string Qemu, string? Driver)[] BehindKinds = [("edu", null), ("e1000", "e1000")];

    private KernelMachine(ImmutableArray<KernelDevice> devices, Topology topology)
    {
        Devices = devices;
        Topology = topology;
        Key = string.Join(' ', devices.Select(d => d.QemuDevice));
    }

    /// <summary>The machine of the first kernel traces: e1000e, virtio-net, edu alone; a bridge with an edu and an e1000.</summary>
    public static readonly KernelMachine Fixed = From(Config, new Topology(
        [new IommuSpec(Iommu, DriverNames.Smmuv3, IommuOptions.None)],
        [.. new[] { "g0", "g1", "g2", "g3", "g3", "g3" }.Select((g, i) => new DeviceSpec($"dev{i}", BusNames.Pci, Iommu, g))]), out _)!;

    public ImmutableArray<KernelDevice> Devices { get; }

    /// <summary>The topology the machine was built from (the trace's).</summary>
    public Topology Topology { get; }

    /// <summary>Its QEMU devices, in order: two traces with equal keys boot the same guest.</summary>
    public string Key { get; }

    /// <summary>The group key of device <paramref name="device"/> (an index).</summary>
    public string GroupKey(int device) => Devices[device].Spec.Group;

    /// <summary>
    /// The machine for a trace's config and topology, or null with the reason when QEMU (or this back-end) cannot
    /// express it: the config, the one instance, the bus, the flags, and the counts above.
    /// </summary>
    public static KernelMachine? From(SystemConfig config, Topology topology, out string reason)
    {
        reason = Refusal(config, topology) ?? "";
        if (reason.Length > 0) return null;
        var groups = topology.Devices.Select(d => d.Group).Distinct(StringComparer.Ordinal).ToList();
        var members = groups.ToDictionary(g => g, g => topology.Devices.Select((d, i) => (d, i)).Where(p => p.d.Group == g).Select(p => p.i).ToList(), StringComparer.Ordinal);
        var devices = new KernelDevice[topology.Devices.Length];
        int slot = 0, bus = 0;
        foreach (var g in groups)
        {
            var m = members[g];
            slot++;
            var rootBdf = string.Create(CultureInfo.InvariantCulture, $"0000:00:{slot:x2}.0");
            if (m.Count == 1)
            {
                var (qemu, driver) = RootKinds[(slot - 1 - bus) % RootKinds.Length];
                devices[m[0]] = new KernelDevice(topology.Devices[m[0]], rootBdf, qemu, driver);
                continue;
            }
            bus++;
            devices[m[0]] = new KernelDevice(topology.Devices[m[0]], rootBdf, $"pcie-pci-bridge,id=br{bus}", null, Bridge: true);
            for (var k = 1; k < m.Count; k++)
            {
                var (qemu, driver) = BehindKinds[(k - 1) % BehindKinds.Length];
                var bdf = string.Create(CultureInfo.InvariantCulture, $"0000:{bus:x2}:{k - 1:x2}.0");
                devices[m[k]] = new KernelDevice(topology.Devices[m[k]], bdf, $"{qemu},bus=br{bus},addr={k - 1:x}", driver);
            }
        }
        return new KernelMachine([.. devices], topology);
    }

    private static string? Refusal(SystemConfig config, Topology topology)
    {
        if (config with { Era = Config.Era } != Config)
            return $"config must be {{cpus: {Config.Cpus}, defaultDomain: DMA}} (the guest: -smp 1, iommu=nopt, VT-d in caching mode is strict)";
        if (topology.Iommus.Length != 1 || topology.Iommus[0].Driver != DriverNames.Smmuv3 || topology.Iommus[0].Options != IommuOptions.None)
            return "QEMU's q35 has one intel-iommu: the machine has one IOMMU instance, driver smmuv3, no options (VT-d as this slice sees it)";
        if (topology.Devices.Length == 0) return "the machine needs at least one device";
        var iommu = topology.Iommus[0].Name;
        for (var i = 0; i < topology.Devices.Length; i++)
        {
            var d = topology.Devices[i];
            if (d.Bus != BusNames.Pci) return $"device {i} ({d.Name}) is on the {d.Bus} bus: q35 has only PCI devices userspace can reach";
            if (d.Iommu != iommu) return $"device {i} ({d.Name}) must be behind {iommu}: every PCI device of q35 is behind the one VT-d";
            if (d != new DeviceSpec(d.Name, BusNames.Pci, iommu, d.Group))
                return $"device {i} ({d.Name}) has flags (untrusted, requireDirect, noDirty, maxPasids, defDomainType) QEMU's devices cannot express: no flags";
        }
        var sizes = topology.Devices.GroupBy(d => d.Group, StringComparer.Ordinal).Select(g => (g.Key, g.Count())).ToList();
        if (sizes.Count > MaxRootDevices) return $"{sizes.Count} groups: q35's root bus has {MaxRootDevices} free slots (one per group)";
        if (sizes.FirstOrDefault(s => s.Item2 > MaxGroupSize) is { Key: { } big } s)
            return $"group {big} has {s.Item2} devices: a pcie-pci-bridge and at most {MaxGroupSize - 1} behind it";
        return null;
    }

    /// <summary>Why a trace's machine cannot be booted (null when it can): a topology QEMU cannot express (<see cref="From"/>).</summary>
    public static string? Mismatch(SystemConfig config, Topology topology) =>
        From(config, topology, out var reason) is null ? reason : null;
}
