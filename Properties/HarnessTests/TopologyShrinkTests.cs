using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The machine simplifications that vtd in generated machines needs: a vtd (PCI only) instance handed to smmuv3, and a
/// bus_probe that follows its devices to the bus they were moved to (else it probes nothing and the shrink is lost).
/// </summary>
public sealed class TopologyShrinkTests
{
    private static readonly Trace Mixed = new("mixed", [], SystemConfig.Default,
        new Topology([new IommuSpec("vtd0", DriverNames.Vtd, new IommuOptions(IdentityDomain: false)), new IommuSpec("mock0", DriverNames.Mock, IommuOptions.None)],
            [new DeviceSpec("dev0", BusNames.Pci, "vtd0", "g0"), new DeviceSpec("dev1", BusNames.Platform, "mock0", "g0")]),
        [new(new BusProbe(BusNames.Pci)), new(new BusProbe(BusNames.Platform)), new(new DomainAllocPaging("dev0", "d1")), new(new AttachDevice("d1", "dev1"))]);

    [Fact]
    public void A_vtd_instance_is_offered_to_smmuv3_with_default_options()
    {
        var candidates = TopologyShrinks.Simplify(Mixed).ToList();
        var handed = Assert.Single(candidates, c => c.Topology.Iommus[0].Driver == DriverNames.Smmuv3);
        Assert.Equal(IommuOptions.None, handed.Topology.Iommus[0].Options);
        Assert.Equal(Mixed.Topology.Devices, handed.Topology.Devices);
        Assert.Equal(Mixed.Steps, handed.Steps);
    }

    [Fact]
    public void A_bus_probe_of_a_bus_left_without_devices_follows_them()
    {
        var candidates = TopologyShrinks.Simplify(Mixed).ToList();
        // every device on platform: the pci bus probe now probes platform
        var oneBus = Assert.Single(candidates, c => c.Topology.Devices.All(d => d.Bus == BusNames.Platform) && c.Topology.Iommus[0].Driver == DriverNames.Vtd);
        Assert.Equal([new BusProbe(BusNames.Platform), new BusProbe(BusNames.Platform)], oneBus.Steps.Take(2).Select(s => s.Op));
        // vtd0 handed to the mock moves its devices to platform: the same
        var mocked = Assert.Single(candidates, c => c.Topology.Iommus[0].Driver == DriverNames.Mock);
        Assert.Equal(new BusProbe(BusNames.Platform), mocked.Steps[0].Op);
        // a bus that keeps devices keeps its probes
        var allPci = Assert.Single(candidates, c => c.Topology.Devices.All(d => d.Bus == BusNames.Pci));
        Assert.Equal([new BusProbe(BusNames.Pci), new BusProbe(BusNames.Pci)], allPci.Steps.Take(2).Select(s => s.Op));
        Assert.Equal(Mixed.Steps.Skip(2), allPci.Steps.Skip(2));
    }
}
