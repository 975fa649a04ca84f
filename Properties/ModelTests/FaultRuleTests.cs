using IommuConformance.Contract;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// The model's fault rule for the device, group, domain, cookie and table-page sites (ModelState.Faults.cs): after
/// <c>fail_nth</c>, an outcome carrying a site's line is admitted only as that site's documented answer, at the device
/// the line names, and only where the operation makes that allocation; the state after is as before (no failure pending).
/// </summary>
public class FaultRuleTests
{
    private static readonly Topology TwoGroups = new(
        [new IommuSpec("smmu0", DriverNames.Smmuv3, IommuOptions.None)],
        [new DeviceSpec("dev0", BusNames.Pci, "smmu0", "g0"), new DeviceSpec("dev1", BusNames.Pci, "smmu0", "g1")]);

    private static ModelState Armed(params Operation[] before) => ArmedNth(1, before);

    private static ModelState ArmedNth(ulong n, params Operation[] before)
    {
        var s = ModelState.Initial(SystemConfig.Default, TwoGroups);
        foreach (var op in before) s = s.Step(op).Next;
        return s.Step(new FailNth(n)).Next;
    }

    private static string Line(string site, string? dev = null) => Warn.FaultInjectionPrefix + Warn.FaultSites.Key(site, dev);

    [Fact]
    public void A_probe_structure_failure_is_admitted_at_the_named_device_only()
    {
        var armed = Armed();
        var right = armed.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.DevIommu, "dev0")]));
        Assert.True(right.Allowed);
        Assert.Null(right.Next.GroupOf("dev0"));
        Assert.False(right.Next.Dma.FaultPending);
        Assert.False(armed.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.DevIommu, "dev1")])).Allowed);
        Assert.False(armed.Judge(new Probe("dev0"), new Outcome(Errno.OK, null, [Line(Warn.FaultSites.DevIommu, "dev0")])).Allowed);
    }

    [Fact]
    public void A_driver_probe_structure_failure_is_admitted_for_the_driver_that_allocates_it_only()
    {
        var armed = Armed();
        var master = armed.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.ArmSmmuMaster, "dev0")]));
        Assert.True(master.Allowed);
        Assert.Null(master.Next.GroupOf("dev0"));
        Assert.False(master.Next.Dma.FaultPending);
        // another driver's structure, another device, or an OK answer: not what arm_smmu_probe_device does
        Assert.False(armed.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.DeviceDomainInfo, "dev0")])).Allowed);
        Assert.False(armed.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.ArmSmmuMaster, "dev1")])).Allowed);
        Assert.False(armed.Judge(new Probe("dev0"), new Outcome(Errno.OK, null, [Line(Warn.FaultSites.ArmSmmuMaster, "dev0")])).Allowed);

        var virtio = ModelState.Initial(SystemConfig.Default, new Topology(
            [new IommuSpec("viommu0", DriverNames.Virtio, IommuOptions.None)], [new DeviceSpec("dev0", BusNames.Pci, "viommu0", "g0")]))
            .Step(new FailNth(3)).Next;
        foreach (var site in new[] { Warn.FaultSites.ViommuEndpoint, Warn.FaultSites.ViommuProbe, Warn.FaultSites.ViommuProbeReq })
            Assert.True(virtio.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(site, "dev0")])).Allowed);
        Assert.False(virtio.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.ArmSmmuMaster, "dev0")])).Allowed);

        var mock = ModelState.Initial(SystemConfig.Default, new Topology(
            [new IommuSpec("u0", DriverNames.Mock, IommuOptions.None)], [new DeviceSpec("dev0", BusNames.Platform, "u0", "g0")]))
            .Step(new FailNth(2)).Next;
        foreach (var site in DriverCapabilities.Vtd.ProbeSites.Concat(DriverCapabilities.Smmuv3.ProbeSites).Concat(DriverCapabilities.Virtio.ProbeSites))
            Assert.False(mock.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(site, "dev0")])).Allowed);
    }

    [Fact]
    public void A_virtio_attach_failure_is_the_named_devices_enomem_and_the_group_stays_on_its_domain()
    {
        var topology = new Topology([new IommuSpec("viommu0", DriverNames.Virtio, IommuOptions.None)],
            [new DeviceSpec("dev0", BusNames.Platform, "viommu0", "g0"), new DeviceSpec("dev1", BusNames.Platform, "viommu0", "g1")]);
        var s = ModelState.Initial(SystemConfig.Default, topology);
        foreach (var op in new Operation[] { new Probe("dev0"), new Probe("dev1"), new DomainAllocPaging("dev0", "d1"), new FailNth(1) })
            s = s.Step(op).Next;
        var line = Line(Warn.FaultSites.ViommuAttachReq, "dev0");
        var judged = s.Judge(new AttachGroup("d1", "dev0"), new Outcome(Errno.ENOMEM, null, [line]));
        Assert.True(judged.Allowed);
        Assert.Equal(Outcome.OkWith(DomainNames.Default), judged.Next.Step(new GetDomain("dev0")).Outcome);
        Assert.False(judged.Next.Dma.FaultPending);
        // another device's line, a DETACH (the blocking domain allocates nothing here), or another driver's site: refused
        Assert.False(s.Judge(new AttachGroup("d1", "dev0"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.ViommuAttachReq, "dev1")])).Allowed);
        Assert.False(s.Judge(new ClaimDmaOwner("dev0", "o1"), new Outcome(Errno.ENOMEM, null, [line])).Allowed);
        Assert.False(Armed(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"))
            .Judge(new AttachGroup("d1", "dev0"), new Outcome(Errno.ENOMEM, null, [line])).Allowed);
    }

    [Fact]
    public void A_group_failure_needs_a_new_group_and_a_bus_probe_keeps_the_devices_before_it()
    {
        var armed = Armed();
        var judged = armed.Judge(new BusProbe(BusNames.Pci), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.Group, "dev1")]));
        Assert.True(judged.Allowed);
        Assert.NotNull(judged.Next.GroupOf("dev0"));   // probed and queued before the abort
        Assert.Null(judged.Next.GroupOf("dev1"));
    }

    [Fact]
    public void A_default_domain_failure_falls_back_to_dma_and_nowhere_else()
    {
        var armed = Armed();
        var fallback = new Outcome(Errno.OK, null, [Line(Warn.FaultSites.Cookie, "dev0"), Warn.DefaultDomainFallbackDma]);
        var judged = armed.Judge(new Probe("dev0"), fallback);
        Assert.True(judged.Allowed);
        Assert.Equal(Outcome.OkWith(GroupTypeStrings.Dma), judged.Next.Step(new GroupTypeRead("dev0")).Outcome);
        // no fallback line, or ENOMEM: not the kernel's answer to a DMA-FQ default that failed
        Assert.False(armed.Judge(new Probe("dev0"), new Outcome(Errno.OK, null, [Line(Warn.FaultSites.Cookie, "dev0")])).Allowed);
        Assert.False(armed.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.Cookie, "dev0")])).Allowed);
    }

    [Fact]
    public void A_user_domain_failure_is_enomem_only_where_the_allocation_would_have_succeeded()
    {
        var armed = Armed(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"));
        var line = Line(Warn.FaultSites.Domain, "dev0");
        var judged = armed.Judge(new DomainAllocPaging("dev0", "d2"), new Outcome(Errno.ENOMEM, null, [line]));
        Assert.True(judged.Allowed);
        Assert.DoesNotContain("d2", judged.Next.LiveDomains);
        // a taken handle answers EEXIST before the driver is asked: no allocation to fail
        Assert.False(armed.Judge(new DomainAllocPaging("dev0", "d1"), new Outcome(Errno.ENOMEM, null, [line])).Allowed);
    }

    [Fact]
    public void A_table_root_failure_is_a_domain_failure_of_a_driver_with_a_table_only()
    {
        var armed = Armed(new Probe("dev0"));
        var root = Line(Warn.FaultSites.TableRoot, "dev0");
        var judged = armed.Judge(new DomainAllocPaging("dev0", "d1"), new Outcome(Errno.ENOMEM, null, [root]));
        Assert.True(judged.Allowed);
        Assert.DoesNotContain("d1", judged.Next.LiveDomains);
        // at a probe it is the default domain's allocation: the DMA fall back, as for the driver's struct
        Assert.True(Armed().Judge(new Probe("dev1"), new Outcome(Errno.OK, null, [Line(Warn.FaultSites.TableRoot, "dev1"), Warn.DefaultDomainFallbackDma])).Allowed);
        Assert.False(armed.Judge(new DomainAllocPaging("dev0", "d1"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.TableRoot, "dev1")])).Allowed);
        // virtio-iommu allocates no table with its domain: the line names an allocation that does not happen
        var virtio = new Topology([new IommuSpec("viommu0", DriverNames.Virtio, IommuOptions.None)], [new DeviceSpec("dev0", BusNames.Pci, "viommu0", "g0")]);
        var s = ModelState.Initial(SystemConfig.Default, virtio).Step(new Probe("dev0")).Next.Step(new FailNth(1)).Next;
        Assert.False(s.Judge(new DomainAllocPaging("dev0", "d1"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.TableRoot, "dev0")])).Allowed);
        Assert.True(s.Judge(new DomainAllocPaging("dev0", "d1"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.Domain, "dev0")])).Allowed);
    }

    [Fact]
    public void A_table_page_failure_leaves_the_domain_as_it_was()
    {
        var armed = Armed(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"));
        var judged = armed.Judge(new Map("d1", 0x1ff000, 0x10000, 0x2000, "rw"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.TablePage)]));
        Assert.True(judged.Allowed);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0)), judged.Next.Step(new IovaToPhys("d1", 0x1ff000)).Outcome);
        Assert.False(armed.Judge(new Map("d1", 0x1ff000, 0x10000, 0x2000, "rw"), new Outcome(Errno.OK, null, [Line(Warn.FaultSites.TablePage)])).Allowed);
    }

    /// <summary>
    /// io-pgtable-arm keeps the tables a failed map made before the failing one (found by a 50,000-trace campaign, seed
    /// 4242,7: a 1 GiB unmap over the level-2 table the failed map left answered 1 GiB). A 4K map at 8 GiB needs three
    /// tables (512G, 1G, 2M entries); with fail_nth 3 it may have made 0, 1 or 2, and the next unmap tells which.
    /// </summary>
    [Fact]
    public void A_table_page_failure_on_smmuv3_keeps_the_tables_made_before_it_and_the_next_unmap_tells_which()
    {
        var map = new Map("d1", 0x2_0000_0000, 0, 0x1000, "rw");
        var unmap = new Unmap("d1", 0x2_0000_0000, 0x4000_0000);
        var failed = new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.TablePage)]);
        var empty = new Outcome(Errno.OK, OutcomeValues.Number(0), [Warn.ArmLpaeUnmapEmpty]);
        var whole = Outcome.OkWith(OutcomeValues.Number(0x4000_0000));

        var three = ArmedNth(3, new Probe("dev0"), new DomainAllocPaging("dev0", "d1")).Judge(map, failed);
        Assert.True(three.Allowed);
        Assert.True(three.Next.Judge(unmap, empty).Allowed);                          // none or the 512G table only
        Assert.False(three.Next.Judge(unmap, Outcome.OkWith(OutcomeValues.Number(0x20_0000))).Allowed);
        var told = three.Next.Judge(unmap, whole);                                   // the 1G table too: it goes
        Assert.True(told.Allowed);
        Assert.Equal(empty, told.Next.Step(unmap).Outcome);
        Assert.False(told.Next.Judge(unmap, whole).Allowed);

        // fail_nth 1: the first table failed, none was made
        var one = ArmedNth(1, new Probe("dev0"), new DomainAllocPaging("dev0", "d1")).Judge(map, failed);
        Assert.True(one.Allowed);
        Assert.False(one.Next.Judge(unmap, whole).Allowed);

        // a map into tables that exist makes none: it cannot meet the failure
        var mapped = ArmedNth(1, new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), map);
        Assert.False(mapped.Judge(new Map("d1", 0x2_0000_1000, 0x1000, 0x1000, "rw"), failed).Allowed);
    }

    [Fact]
    public void Virtio_map_sites_are_admitted_on_virtio_domains_only_and_the_request_only_with_an_endpoint()
    {
        var virtio = new Topology([new IommuSpec("viommu0", DriverNames.Virtio, IommuOptions.None)], [new DeviceSpec("dev0", BusNames.Pci, "viommu0", "g0")]);
        var s = ModelState.Initial(SystemConfig.Default, virtio).Step(new Probe("dev0")).Next.Step(new DomainAllocPaging("dev0", "d1")).Next
            .Step(new FailNth(1)).Next;
        var map = new Map("d1", 0x1ff000, 0x10000, 0x2000, "rw");
        Assert.True(s.Judge(map, new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.ViommuMapping)])).Allowed);
        // d1 has no endpoint: viommu_map_pages sends no MAP request, so none can fail
        Assert.False(s.Judge(map, new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.ViommuMapReq)])).Allowed);
        // virtio has no table pages; smmuv3 has no mapping tree
        Assert.False(s.Judge(map, new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.TablePage)])).Allowed);
        var smmu = Armed(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"));
        Assert.False(smmu.Judge(map, new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.ViommuMapping)])).Allowed);
        // a dma_map into the attached default domain may meet either
        var dma = ModelState.Initial(SystemConfig.Default, virtio).Step(new Probe("dev0")).Next.Step(new FailNth(1)).Next;
        var dmaMap = new DmaMap("dev0", 0x1000, 0x1000, DmaDirections.ToDevice, 0);
        var failed = Outcome.OkWith(OutcomeValues.Number(DmaArgs.MappingError));
        Assert.True(dma.Judge(dmaMap, failed with { Warnings = [Line(Warn.FaultSites.ViommuMapReq)] }).Allowed);
        Assert.True(dma.Judge(dmaMap, failed with { Warnings = [Line(Warn.FaultSites.ViommuMapping)] }).Allowed);
    }

    [Fact]
    public void Virtio_unmap_request_failure_is_admitted_only_where_a_request_is_sent_and_keeps_the_range()
    {
        var virtio = new Topology([new IommuSpec("viommu0", DriverNames.Virtio, IommuOptions.None)], [new DeviceSpec("dev0", BusNames.Pci, "viommu0", "g0")]);
        var line = Line(Warn.FaultSites.ViommuUnmapReq);
        var unmap = new Unmap("d1", 0x100000, 0x2000);
        var zero = new Outcome(Errno.OK, OutcomeValues.Number(0), [line]);
        var mapped = ModelState.Initial(SystemConfig.Default, virtio).Step(new Probe("dev0")).Next.Step(new DomainAllocPaging("dev0", "d1")).Next
            .Step(new Map("d1", 0x100000, 0x200000, 0x2000, "rw")).Next;
        // no endpoint: viommu_unmap_pages sends no UNMAP request
        Assert.False(mapped.Step(new FailNth(1)).Next.Judge(unmap, zero).Allowed);
        var attached = mapped.Step(new AttachDevice("d1", "dev0")).Next.Step(new FailNth(1)).Next;
        var judged = attached.Judge(unmap, zero);
        Assert.True(judged.Allowed);
        Assert.Equal(OutcomeValues.Number(0x201000), judged.Next.Step(new IovaToPhys("d1", 0x101000)).Outcome.Value);
        // the bytes are 0, and a range the tree does not cover sends nothing
        Assert.False(attached.Judge(unmap, zero with { Value = OutcomeValues.Number(0x2000) }).Allowed);
        Assert.False(attached.Judge(new Unmap("d1", 0x400000, 0x1000), zero).Allowed);

        // under dma_unmap: the short count warns, the IOVA is freed, the range stays mapped
        var dma = ModelState.Initial(SystemConfig.Default, virtio).Step(new Probe("dev0")).Next;
        var map = new DmaMap("dev0", 0x1000, 0x1000, DmaDirections.Bidirectional, 0, "i1");
        var first = dma.Step(map);
        var armed = first.Next.Step(new FailNth(1)).Next;
        var dmaUnmap = new DmaUnmap("dev0", 0, "i1", 0x1000, DmaDirections.Bidirectional, 0);
        Assert.False(armed.Judge(dmaUnmap, new Outcome(Errno.OK, null, [line])).Allowed);
        var unmapped = armed.Judge(dmaUnmap, new Outcome(Errno.OK, null, [line, Warn.DmaUnmapSize]));
        Assert.True(unmapped.Allowed);
        OutcomeValues.TryNumber(first.Outcome.Value, out var iova);
        Assert.Equal(Errno.OK, unmapped.Next.Step(new DeviceDma("dev0", iova, 1, false)).Outcome.Errno);
        // a map handed the freed IOVA is refused over the range still mapped; with nothing left over it may not be
        var refused = Outcome.OkWith(OutcomeValues.Number(DmaArgs.MappingError));
        var again = map with { As = "i2", Paddr = 0x2000 };
        // (DMA-FQ: the IOVA is queued, so it is not handed out before the flush the timer brings: virtio's one queue, 1 s)
        Assert.False(unmapped.Next.Judge(again, refused).Allowed);
        Assert.True(unmapped.Next.Step(new Tick(1000)).Next.Judge(again, refused).Allowed);
        Assert.False(dma.Judge(again, refused).Allowed);
        Assert.False(first.Next.Step(dmaUnmap).Next.Judge(again, refused).Allowed);
    }

    [Fact]
    public void Smmuv3_cd_table_failure_is_met_at_a_members_first_paging_attach_only()
    {
        var pair = new Topology([new IommuSpec("smmu0", DriverNames.Smmuv3, IommuOptions.None)],
            [new DeviceSpec("dev0", BusNames.Pci, "smmu0", "g0"), new DeviceSpec("dev1", BusNames.Pci, "smmu0", "g0")]);
        var identity = SystemConfig.Default with { DefaultDomain = DefaultDomainType.Identity };
        var s = ModelState.Initial(identity, pair).Step(new BusProbe(BusNames.Pci)).Next.Step(new DomainAllocPaging("dev0", "d1")).Next;
        Outcome Refused(string dev) => new(Errno.ENOMEM, null, [Line(Warn.FaultSites.ArmSmmuCdTable, dev)]);
        var attach = new AttachGroup("d1", "dev0");
        var armed = s.Step(new FailNth(1)).Next;
        Assert.True(armed.Judge(attach, Refused("dev0")).Allowed);
        // the blocking domain is no stage-1 domain: nothing allocated for it
        Assert.False(armed.Judge(new ClaimDmaOwner("dev0", "o1"), Refused("dev0")).Allowed);
        // the second member refusing: the first took the domain, made its table and keeps it through the revert
        var refused = s.Step(new FailNth(2)).Next.Judge(attach, Refused("dev1"));
        Assert.True(refused.Allowed);
        Assert.Equal(Outcome.OkWith(DomainNames.Default), refused.Next.Step(new GetDomain("dev0")).Outcome);
        var again = refused.Next.Step(new FailNth(1)).Next;
        Assert.False(again.Judge(attach, Refused("dev0")).Allowed);
        Assert.True(again.Judge(attach, Refused("dev1")).Allowed);
        // a member that was on a stage-1 domain keeps its table after it left it; a released one loses it
        var back = s.Step(attach).Next.Step(new DetachGroup("d1", "dev0")).Next;
        Assert.False(back.Step(new FailNth(1)).Next.Judge(attach, Refused("dev1")).Allowed);
        var reprobed = back.Step(new Release("dev1")).Next.Step(new Probe("dev1")).Next.Step(new FailNth(1)).Next;
        Assert.False(reprobed.Judge(new AttachGroup("d1", "dev1"), Refused("dev0")).Allowed);
        Assert.True(reprobed.Judge(new AttachGroup("d1", "dev1"), Refused("dev1")).Allowed);
    }

    [Fact]
    public void A_set_up_failure_in_a_bus_probe_is_judged_at_the_device_its_line_names()
    {
        var armed = Armed();
        var bus = new BusProbe(BusNames.Pci);
        var map = new DmaMap("dev1", 0x5000, 0x1000, DmaDirections.ToDevice, 0);
        // the second group's set-up met it: dev1 on dma-direct (1:1), dev0's set up
        var second = armed.Judge(bus, new Outcome(Errno.OK, null, [Line(Warn.FaultSites.Rcaches, "dev1"), Warn.DmaSetupFailed]));
        Assert.True(second.Allowed);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0x5000)), second.Next.Step(map).Outcome);
        // the first group's: dev1 maps through its IOVA domain
        var first = armed.Judge(bus, new Outcome(Errno.OK, null, [Line(Warn.FaultSites.Rcaches, "dev0"), Warn.DmaSetupFailed]));
        Assert.True(first.Allowed);
        Assert.NotEqual(Outcome.OkWith(OutcomeValues.Number(0x5000)), first.Next.Step(map).Outcome);
        // a device with no set-up in this step, or no device at all (the line of a set-up always names one)
        Assert.False(armed.Judge(bus, new Outcome(Errno.OK, null, [Line(Warn.FaultSites.Rcaches, "dev9"), Warn.DmaSetupFailed])).Allowed);
        Assert.False(armed.Judge(bus, new Outcome(Errno.OK, null, [Line(Warn.FaultSites.Rcaches), Warn.DmaSetupFailed])).Allowed);
    }

    [Fact]
    public void A_fault_line_without_a_pending_fail_nth_is_never_admitted()
    {
        var s = ModelState.Initial(SystemConfig.Default, TwoGroups);
        Assert.False(s.Judge(new Probe("dev0"), new Outcome(Errno.ENOMEM, null, [Line(Warn.FaultSites.DevIommu, "dev0")])).Allowed);
    }
}
