using IommuConformance.Contract;
using IommuConformance.Model.Rules;
using Xunit;

namespace IommuConformance.Properties.ModelTests;

/// <summary>The driver table of spec §2 as one record per driver, and the model's facts read from it.</summary>
public sealed class DriverCapabilitiesTests
{
    [Fact]
    public void The_table_holds_todays_facts()
    {
        var smmu = Assert.IsType<DriverCapabilities>(DriverCapabilities.For(DriverNames.Smmuv3));
        Assert.Equal([BusNames.Pci, BusNames.Platform], smmu.Buses.ToArray());
        Assert.False(smmu.StaticBlockedDefault);
        Assert.True(smmu.IdentityDomain && smmu.DeferredFlush && smmu.DomainPerInstance && smmu.HonoursDefDomainType);
        Assert.False(smmu.DirtyTracking);

        var mock = Assert.IsType<DriverCapabilities>(DriverCapabilities.For(DriverNames.Mock));
        Assert.Equal([BusNames.Platform], mock.Buses.ToArray());
        Assert.True(mock.StaticBlockedDefault && mock.DirtyTracking);
        Assert.False(mock.IdentityDomain || mock.DeferredFlush || mock.DomainPerInstance || mock.HonoursDefDomainType);

        Assert.Null(DriverCapabilities.For("amd"));
        Assert.Equal(DriverCapabilities.Vtd, DriverCapabilities.For(DriverNames.Vtd));
        Assert.Equal(DriverCapabilities.Virtio, DriverCapabilities.For(DriverNames.Virtio));
        Assert.All(DriverNames.All, name => Assert.NotNull(DriverCapabilities.For(name)));
    }

    [Fact]
    public void Instance_options_override_only_the_knobs_a_driver_has()
    {
        var options = new IommuOptions(DeferredFlush: false, IdentityDomain: true);
        var smmu = DriverFacts.For(new IommuSpec("smmu0", DriverNames.Smmuv3, options))!;
        Assert.Equal(DriverCapabilities.Smmuv3 with { DeferredFlush = false }, smmu.Caps);
        var mock = DriverFacts.For(new IommuSpec("mock0", DriverNames.Mock, options))!;
        Assert.Equal(DriverCapabilities.Mock, mock.Caps);
        Assert.False(mock.IdentityDomain);
    }

    [Fact]
    public void Model_rules_follow_the_record_not_the_name()
    {
        // A made-up driver entry: smmuv3's name with mock-like domains. The rules must read the record.
        var roaming = new DriverFacts("x0", DriverCapabilities.Smmuv3 with { DomainPerInstance = false, DirtyTracking = true });
        var dev = new DeviceSpec("dev0", BusNames.Pci, "x1", "g0");
        var foreign = new Model.State.UserDomain("d1", DriverNames.Smmuv3, "x0", "other", DirtyTracking: false, Seq: 0);
        Assert.Equal(Errno.OK, roaming.AttachUserDomain(foreign, dev));
        Assert.Equal(Errno.OK, roaming.AllocPaging(dev, AllocFlags.DirtyTracking));
        var pciless = new DriverFacts("x0", DriverCapabilities.Smmuv3 with { Buses = [BusNames.Platform] });
        Assert.Equal(Errno.ENODEV, pciless.ProbeDevice(dev));
    }
}
