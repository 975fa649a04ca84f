using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// Random machines: 1–3 IOMMU instances of mixed drivers and 1–8 devices whose group keys collide often, so
/// multi-device groups, cross-driver pairs and device flags (untrusted, requireDirect, noDirty, a driver
/// def_domain_type) all turn up in small topologies.
/// </summary>
public static class TopologyGen
{
    /// <summary>The global default domain type: lazy translation most often, as on a mainline kernel.</summary>
    public static Gen<SystemConfig> Config() =>
        Gen.Frequency(
            (2, Gen.Constant(DefaultDomainType.DmaFq)),
            (1, Gen.Constant(DefaultDomainType.Dma)),
            (1, Gen.Constant(DefaultDomainType.Identity)))
        .Select(type => new SystemConfig(Cpus: 2, DefaultDomain: type));

    public static Gen<Topology> Topology() =>
        from drivers in Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(Driver(), n))
        from iommus in Gen.CollectToArray(Name(drivers), Iommu)
        from count in Gen.Frequency((1, Gen.Choose(1, 2)), (3, Gen.Choose(2, 5)), (1, Gen.Choose(6, 8)))
        from devices in Gen.CollectToArray(Enumerable.Range(0, count), i => Device(i, iommus))
        select new Topology([.. iommus], [.. devices]);

    private static Gen<string> Driver() =>
        Gen.Frequency((3, Gen.Constant(DriverNames.Smmuv3)), (2, Gen.Constant(DriverNames.Mock)));

    /// <summary>Instance names that say their driver: smmu0, smmu1, mock0 ...</summary>
    private static IEnumerable<(string Name, string Driver)> Name(string[] drivers) =>
        drivers.Select((driver, i) =>
            ((driver == DriverNames.Smmuv3 ? "smmu" : driver) + drivers.Take(i).Count(d => d == driver), driver));

    private static Gen<IommuSpec> Iommu((string Name, string Driver) instance) =>
        instance.Driver != DriverNames.Smmuv3
            ? Gen.Constant(new IommuSpec(instance.Name, instance.Driver, IommuOptions.None))
            : from noFlush in Chance(1, 3)
              from noIdentity in Chance(1, 6)
              select new IommuSpec(instance.Name, instance.Driver, new IommuOptions(
                  DeferredFlush: noFlush ? false : null,
                  IdentityDomain: noIdentity ? false : null));

    private static Gen<DeviceSpec> Device(int index, IommuSpec[] iommus) =>
        from iommu in Gen.Frequency((19, Gen.Elements(iommus).Select(i => (IommuSpec?)i)), (1, Gen.Constant((IommuSpec?)null)))
        from bus in Bus(iommu)
        from groupKey in Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Constant(1)), (1, Gen.Constant(2)))
        from untrusted in Chance(1, 8)
        from requireDirect in Chance(1, 10)
        from noDirty in iommu?.Driver == DriverNames.Mock ? Chance(1, 3) : Gen.Constant(false)
        from defType in Gen.Frequency(
            (12, Gen.Constant<string?>(null)),
            (2, Gen.Constant<string?>(GroupTypeStrings.Identity)),
            (2, Gen.Constant<string?>(GroupTypeStrings.Dma)))
        select new DeviceSpec($"dev{index}", bus, iommu?.Name, $"g{groupKey}",
            Untrusted: untrusted && bus == BusNames.Pci, RequireDirect: requireDirect, NoDirty: noDirty,
            DefDomainType: defType);

    /// <summary>Mock devices live on its private bus (platform here); a few land on pci to be refused.</summary>
    private static Gen<string> Bus(IommuSpec? iommu) =>
        iommu?.Driver == DriverNames.Mock
            ? Gen.Frequency((6, Gen.Constant(BusNames.Platform)), (1, Gen.Constant(BusNames.Pci)))
            : Gen.Frequency((3, Gen.Constant(BusNames.Pci)), (2, Gen.Constant(BusNames.Platform)));

    /// <summary>True with probability <paramref name="n"/>/<paramref name="d"/>.</summary>
    internal static Gen<bool> Chance(int n, int d) => Gen.Choose(1, d).Select(x => x <= n);
}
