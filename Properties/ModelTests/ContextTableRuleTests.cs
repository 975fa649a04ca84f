using IommuConformance.Contract;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// A legacy VT-d unit's context table (docs/dma.md, "Fault injection"): made at the unit's first present entry, and
/// only that attach meets its injected failure; until it exists every DMA of the unit answers <c>no_domain</c>.
/// </summary>
public class ContextTableRuleTests
{
    private static readonly Topology Legacy = new([new IommuSpec("vtd0", DriverNames.Vtd, IommuOptions.None)],
        [new DeviceSpec("dev0", BusNames.Pci, "vtd0", "g0"), new DeviceSpec("dev1", BusNames.Pci, "vtd0", "g1")]);

    private static string Line(string dev) => Warn.FaultInjectionPrefix + Warn.FaultSites.Key(Warn.FaultSites.IntelContextTable, dev);

    private static Outcome FirstAttachRefused(string dev) => new(Errno.ENOMEM, null, [Line(dev), Warn.DefaultDomainFirstAttachFailed]);

    private static ModelState Armed(ModelState s) => s.Step(new FailNth(1)).Next;

    [Fact]
    public void Only_the_units_first_present_entry_meets_the_context_table()
    {
        var s = ModelState.Initial(SystemConfig.Default, Legacy);
        var refused = Armed(s).Judge(new Probe("dev0"), FirstAttachRefused("dev0"));
        Assert.True(refused.Allowed);
        Assert.Null(refused.Next.GroupOf("dev0"));
        Assert.False(Armed(s).Judge(new Probe("dev0"), FirstAttachRefused("dev1")).Allowed);
        // the table made by dev0's first attach: dev1's asks nothing, and neither does a later entry of dev0
        var probed = s.Step(new Probe("dev0")).Next;
        Assert.False(Armed(probed).Judge(new Probe("dev1"), FirstAttachRefused("dev1")).Allowed);
        Assert.False(Armed(probed).Judge(new GroupTypeWrite("dev0", GroupTypeStrings.Identity),
            new Outcome(Errno.ENOMEM, null, [Line("dev0")])).Allowed);
        // a unit in scalable mode makes its context tables elsewhere: no such site
        var scalable = ModelState.Initial(SystemConfig.Default, Legacy with { Iommus = [new IommuSpec("vtd0", DriverNames.Vtd, new IommuOptions(Scalable: true))] });
        Assert.False(Armed(scalable).Judge(new Probe("dev0"), FirstAttachRefused("dev0")).Allowed);
    }

    [Fact]
    public void A_probe_that_fails_after_joining_its_group_makes_the_table_through_a_require_direct_devices_release_domain()
    {
        var refusedDefault = Legacy with
        {
            Devices = [new DeviceSpec("dev0", BusNames.Pci, "vtd0", "g0") { Untrusted = true, RequireDirect = true, DefDomainType = "identity" },
                new DeviceSpec("dev1", BusNames.Pci, "vtd0", "g1")],
        };
        var s = ModelState.Initial(SystemConfig.Default, refusedDefault);
        var probe0 = new Probe("dev0");
        Assert.Equal(Errno.EINVAL, s.Step(probe0).Outcome.Errno);
        // iommu_deinit_device parks dev0 on identity: the table made, so dev1's first attach asks none
        Assert.False(Armed(s.Step(probe0).Next).Judge(new Probe("dev1"), FirstAttachRefused("dev1")).Allowed);
        // that attach meeting the failure: the core ignores its errno, the line alone shows, and no table is made
        var failed = Armed(s).Judge(probe0, new Outcome(Errno.EINVAL, null, [Line("dev0")]));
        Assert.True(failed.Allowed);
        Assert.True(Armed(failed.Next).Judge(new Probe("dev1"), FirstAttachRefused("dev1")).Allowed);
    }

    [Fact]
    public void Before_the_table_every_dma_of_the_unit_is_no_domain_and_after_it_a_never_attached_device_is_blocked()
    {
        var s = ModelState.Initial(SystemConfig.Default, Legacy);
        var bus = Armed(s).Judge(new BusProbe(BusNames.Pci), FirstAttachRefused("dev0"));
        Assert.True(bus.Allowed);
        var dma = new DeviceDma("dev0", 0x1000, 4, false);
        Assert.Equal(new Outcome(Errno.EIO, DmaValues.Fault(DmaFaults.NoDomain), []), bus.Next.Step(dma).Outcome);
        var tabled = bus.Next.Step(new DomainAllocPaging("dev1", "d1")).Next.Step(new AttachGroup("d1", "dev1")).Next;
        Assert.Equal(new Outcome(Errno.EIO, DmaValues.Fault(DmaFaults.Blocked), []), tabled.Step(dma).Outcome);
        // a blocking attach clears an entry and makes no table
        var owned = bus.Next.Step(new ClaimDmaOwner("dev1", "o1")).Next;
        Assert.Equal(new Outcome(Errno.EIO, DmaValues.Fault(DmaFaults.NoDomain), []), owned.Step(dma).Outcome);
    }
}
