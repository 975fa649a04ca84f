using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Generation;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// Random machines: 1–3 IOMMU instances with drivers drawn from <see cref="DriverNames.All"/> (or the drivers a setting
/// names), 1–8 devices whose
/// group keys collide often. Swarm-style, each machine first draws its own feature rates (how many group keys, how
/// often require_direct, untrusted, noDirty, a def_domain_type), so some machines are plain and some are dense in one
/// feature; a quarter of the machines get a multi-device group whose members prefer different default-domain types
/// (identity and DMA), the case <c>bus_probe</c> resolves from all members at once, and a fifth a require_direct device
/// in a group with others (which refuses the group's blocking domain when it joins later).
/// </summary>
public static class TopologyGen
{
    /// <summary>The global default domain type: lazy translation most often, as on a mainline kernel.</summary>
    public static SystemConfig Config(Prng random)
    {
        var roll = random.Below(4);
        var type = roll < 2 ? DefaultDomainType.DmaFq : roll == 2 ? DefaultDomainType.Dma : DefaultDomainType.Identity;
        return new SystemConfig(Cpus: 2, DefaultDomain: type);
    }

    /// <summary>The per-machine feature rates.</summary>
    private sealed record Features(
        int GroupKeys, double RequireDirect, double Untrusted, double NoDirty, double DefType, bool Conflict, bool DirectPeer);

    private static Features DrawFeatures(Prng random) => new(
        GroupKeys: random.Below(10) switch { < 3 => 1, < 8 => 2, _ => 3 },
        RequireDirect: random.Pick<double>([0, 0, 0.12, 0.12, 0.35]),
        Untrusted: random.Pick<double>([0, 0, 0.15, 0.15, 0.4]),
        NoDirty: random.Pick<double>([0, 0.3, 0.6]),
        DefType: random.Pick<double>([0.05, 0.05, 0.2, 0.4]),
        Conflict: random.Chance(0.25),
        DirectPeer: random.Chance(0.2));

    public static Topology Topology(Prng random) => Topology(random, DriverNames.All);

    /// <summary>A random machine whose instances use <paramref name="drivers"/>.</summary>
    public static Topology Topology(Prng random, IReadOnlyList<string> drivers)
    {
        var features = DrawFeatures(random);
        var iommus = Iommus(random, drivers);
        var count = random.Below(5) switch { 0 => random.Between(1, 2), 4 => random.Between(6, 8), _ => random.Between(2, 5) };
        var devices = new DeviceSpec[count];
        for (var i = 0; i < count; i++) devices[i] = Device(random, i, iommus, features);
        if (features.Conflict) MakeConflict(random, devices);
        if (features.DirectPeer) MakeDirectPeer(random, devices);
        return new Topology([.. iommus], [.. devices]);
    }

    private static IommuSpec[] Iommus(Prng random, IReadOnlyList<string> drivers)
    {
        var count = random.Below(20) switch { < 9 => 1, < 16 => 2, _ => 3 };
        var iommus = new IommuSpec[count];
        var perDriver = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var driver = random.Pick(drivers);
            var n = perDriver.GetValueOrDefault(driver);
            perDriver[driver] = n + 1;
            iommus[i] = new IommuSpec(Prefix(driver) + n, driver, Options(random, driver));
        }
        return iommus;
    }

    /// <summary>Instance names that say their driver: smmu0, smmu1, mock0 ...</summary>
    private static string Prefix(string driver) => driver == DriverNames.Smmuv3 ? "smmu" : driver;

    /// <summary>The buses a driver's devices are drawn from: vtd takes only PCI devices (mostly given them).</summary>
    private static string Bus(Prng random, string? driver) => driver switch
    {
        DriverNames.Mock => random.Below(7) == 0 ? BusNames.Pci : BusNames.Platform,
        DriverNames.Vtd => random.Below(8) == 0 ? BusNames.Platform : BusNames.Pci,
        _ => random.Below(5) < 3 ? BusNames.Pci : BusNames.Platform,
    };

    /// <summary>The mock's capabilities are fixed; other drivers sometimes lose deferred flush or the identity domain.</summary>
    private static IommuOptions Options(Prng random, string driver) =>
        driver == DriverNames.Mock
            ? IommuOptions.None
            : new IommuOptions(DeferredFlush: random.OneIn(3) ? false : null, IdentityDomain: random.OneIn(4) ? false : null);

    private static DeviceSpec Device(Prng random, int index, IommuSpec[] iommus, Features features)
    {
        // The first instance is the most likely, so that groups on one instance collide often.
        IommuSpec? iommu = random.OneIn(20) ? null : iommus.Length == 1 || random.Chance(0.5) ? iommus[0] : random.Pick(iommus);
        var bus = Bus(random, iommu?.Driver);
        var key = features.GroupKeys == 1 ? 0 : random.Below(features.GroupKeys + 1) switch { 0 or 1 => 0, var k => k - 1 };
        string? defType = random.Chance(features.DefType) ? random.Pick(TypeNames) : null;
        return new DeviceSpec($"dev{index}", bus, iommu?.Name, $"g{key}",
            Untrusted: bus == BusNames.Pci && random.Chance(features.Untrusted),
            RequireDirect: random.Chance(features.RequireDirect),
            NoDirty: random.Chance(features.NoDirty),
            DefDomainType: defType);
    }

    private static readonly string[] TypeNames = [GroupTypeStrings.Identity, GroupTypeStrings.Dma];

    /// <summary>Two devices of one group (made so if need be) prefer identity and DMA.</summary>
    private static void MakeConflict(Prng random, DeviceSpec[] devices)
    {
        if (devices.Length < 2) return;
        var pairs = new List<(int, int)>();
        for (var i = 0; i < devices.Length; i++)
            for (var j = i + 1; j < devices.Length; j++)
                if (devices[i].Iommu is not null && devices[i].Iommu == devices[j].Iommu && devices[i].Group == devices[j].Group)
                    pairs.Add((i, j));
        var (a, b) = pairs.Count > 0 ? random.Pick(pairs) : (0, 1);
        if (pairs.Count == 0)
        {
            if (devices[a].Iommu is null) return;
            devices[b] = devices[b] with { Iommu = devices[a].Iommu, Group = devices[a].Group, Bus = devices[a].Bus };
        }
        var first = random.Below(2);
        devices[a] = devices[a] with { DefDomainType = TypeNames[first] };
        devices[b] = devices[b] with { DefDomainType = TypeNames[1 - first] };
    }

    /// <summary>One member of a multi-device group (not its first device) requires direct mapping.</summary>
    private static void MakeDirectPeer(Prng random, DeviceSpec[] devices)
    {
        var later = new List<int>();
        for (var j = 0; j < devices.Length; j++)
            for (var i = 0; i < j; i++)
                if (devices[i].Iommu is not null && devices[i].Iommu == devices[j].Iommu && devices[i].Group == devices[j].Group
                    && !devices[i].RequireDirect)
                {
                    later.Add(j);
                    break;
                }
        if (later.Count == 0) return;
        var d = random.Pick(later);
        devices[d] = devices[d] with { RequireDirect = true, NoDirty = devices[d].NoDirty || random.Chance(0.5) };
    }

    /// <summary>
    /// PASID widths, drawn from their own stream (so that the rest of the machine stays as it was): per machine a share of
    /// devices with PASIDs (none in a third of the machines), each with a width of 2 (PASID 1 only: the global PASIDs run
    /// out), 4, 16, 2048 or 2^20 (past the mock's fault-injecting PASID 1024).
    /// </summary>
    public static Topology WithPasids(Topology topology, Prng random)
    {
        var share = random.Pick<double>([0, 0.5, 0.8]);
        if (share == 0) return topology;
        return topology with
        {
            Devices = [.. topology.Devices.Select(d => random.Chance(share) ? d with { MaxPasids = random.Pick(PasidWidths) } : d)],
        };
    }

    private static readonly int[] PasidWidths = [2, 4, 16, 16, 2048, 1 << 20];

    /// <summary>
    /// Translation modes, drawn from their own stream (so that the rest of the machine stays as it was): each vtd instance
    /// is in scalable mode (option <c>scalable</c>) with probability <paramref name="share"/> (default
    /// <see cref="ScalableShare"/>), else legacy mode. Only scalable units translate PASID-tagged DMA (docs/pasid-sva.md).
    /// </summary>
    public static Topology WithModes(Topology topology, Prng random, double share = ScalableShare)
    {
        if (share <= 0 || !topology.Iommus.Any(i => i.Driver == DriverNames.Vtd)) return topology;
        return topology with
        {
            Iommus = [.. topology.Iommus.Select(i => i.Driver == DriverNames.Vtd && random.Chance(share)
                ? i with { Options = i.Options with { Scalable = true } } : i)],
        };
    }

    /// <summary>The share of vtd instances drawn in scalable mode.</summary>
    public const double ScalableShare = 0.5;

    /// <summary>A random config, as an FsCheck generator.</summary>
    public static Gen<SystemConfig> Config() => SeededGen.From((seed, _) => Config(new Prng(seed)));

    /// <summary>A random machine, as an FsCheck generator.</summary>
    public static Gen<Topology> Topology() => SeededGen.From((seed, _) => Topology(new Prng(seed)));
}
