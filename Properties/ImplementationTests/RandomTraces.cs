using IommuConformance.Contract;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>Seeded random machines and operations (every operation of the table, bus_probe included) for differential tests.</summary>
internal static class RandomTraces
{
    private static readonly string[] Owners = ["o1", "o2"];
    private static readonly string[] Types = ["identity", "DMA", "DMA-FQ", "auto", "DMA\n", "bogus"];

    public static Topology Topology(Random rng)
    {
        var iommus = new List<IommuSpec> { Smmu0, Mock0 };
        if (rng.Next(2) == 0) iommus.Add(Smmu1 with { Options = new IommuOptions(DeferredFlush: rng.Next(2) == 0, IdentityDomain: rng.Next(3) > 0) });
        var devices = new List<DeviceSpec>();
        string[] prefs = [null!, null!, "identity", "DMA"];
        for (var i = 0; i < rng.Next(3, 7); i++)
        {
            var iommu = rng.Next(6) switch { 0 => null, 1 or 2 => "mock0", _ => iommus[rng.Next(iommus.Count) == 1 ? 0 : rng.Next(iommus.Count)].Name };
            devices.Add(new DeviceSpec($"dev{i}", rng.Next(3) == 0 ? BusNames.Platform : BusNames.Pci, iommu, $"g{rng.Next(3)}",
                Untrusted: rng.Next(6) == 0, RequireDirect: rng.Next(5) == 0, NoDirty: rng.Next(4) == 0,
                DefDomainType: prefs[rng.Next(prefs.Length)]));
        }
        return new Topology([.. iommus], [.. devices]);
    }

    public static Operation Operation(Random rng, Topology t)
    {
        string Dev() => t.Devices[rng.Next(t.Devices.Length)].Name;
        string Handle() => $"d{rng.Next(4)}";
        return rng.Next(20) switch
        {
            0 or 1 => new Probe(Dev()),
            2 or 3 => new BusProbe(rng.Next(2) == 0 ? BusNames.Pci : BusNames.Platform),
            4 => new Release(Dev()),
            5 => new GroupTypeWrite(Dev(), Types[rng.Next(Types.Length)]),
            6 or 7 => new DomainAllocPaging(Dev(), Handle(), rng.Next(4) == 0 ? AllocFlags.DirtyTracking : null),
            8 => new DomainFree(Handle()),
            9 => new AttachDevice(Handle(), Dev()),
            10 or 11 => new AttachGroup(Handle(), Dev()),
            12 => new DetachDevice(Handle(), Dev()),
            13 => new DetachGroup(Handle(), Dev()),
            14 => new DriverBind(Dev()),
            15 => new DriverUnbind(Dev()),
            16 => new ClaimDmaOwner(Dev(), rng.Next(8) == 0 ? null : Owners[rng.Next(2)]),
            17 => new ReleaseDmaOwner(Dev()),
            18 => new ClaimGroupDmaOwner(Dev(), rng.Next(8) == 0 ? null : Owners[rng.Next(2)]),
            _ => new ReleaseGroupDmaOwner(Dev()),
        };
    }
}
