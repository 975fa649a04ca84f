using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>
/// The fault gate at the core's and the drivers' allocations (issue #7 item 3, docs/dma.md): each site, met by
/// <c>fail_nth</c>, answers what iommu.c / dma-iommu.c answer on a NULL from the allocator, and leaves nothing behind
/// (the teardown audit finds no frame, cookie or IOVA domain left).
/// </summary>
public class CoreFaultTests
{
    private static string Line(string site, string? dev = null) => Warn.FaultInjectionPrefix + Warn.FaultSites.Key(site, dev);

    private static Outcome Fails(Errno errno, params string[] warnings) => new(errno, null, [.. warnings]);

    [Theory]
    [InlineData(1, Warn.FaultSites.DevIommu)]        // dev_iommu_get()
    [InlineData(2, Warn.FaultSites.ArmSmmuMaster)]   // arm_smmu_probe_device()'s master
    [InlineData(3, Warn.FaultSites.Group)]           // iommu_group_alloc() through device_group()
    [InlineData(4, Warn.FaultSites.GroupDevice)]     // iommu_group_alloc_device()
    public void A_probe_whose_own_structure_fails_answers_enomem_and_leaves_the_device_unprobed(int n, string site)
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        var outcomes = system.Run(new FailNth((ulong)n), new Probe("dev0"), new GetDomain("dev0"), new Probe("dev0"));
        Assert.Equal([Outcome.Ok, Fails(Errno.ENOMEM, Line(site, "dev0")), Outcome.OkWith(DomainNames.None), Outcome.Ok], outcomes);
        Assert.Null(system.TearDownAndAudit());
    }

    [Theory]
    [InlineData(DriverNames.Vtd, 2, Warn.FaultSites.DeviceDomainInfo)]   // intel_iommu_probe_device()'s info
    [InlineData(DriverNames.Virtio, 2, Warn.FaultSites.ViommuEndpoint)]  // viommu_probe_device()'s endpoint
    [InlineData(DriverNames.Virtio, 3, Warn.FaultSites.ViommuProbe)]     // viommu_probe_endpoint()'s request
    [InlineData(DriverNames.Virtio, 4, Warn.FaultSites.ViommuProbeReq)]  // __viommu_add_req()'s copy of it
    public void A_probe_whose_driver_structure_fails_answers_enomem_and_a_later_probe_succeeds(string driver, int n, string site)
    {
        var system = Create([new IommuSpec("u0", driver, IommuOptions.None)], [Pci("dev0", iommu: "u0")]);
        var outcomes = system.Run(new FailNth((ulong)n), new Probe("dev0"), new GetDomain("dev0"), new Probe("dev0"), new GroupTypeRead("dev0"));
        Assert.Equal([Outcome.Ok, Fails(Errno.ENOMEM, Line(site, "dev0")), Outcome.OkWith(DomainNames.None), Outcome.Ok,
            Outcome.OkWith(GroupTypeStrings.DmaFq)], outcomes);
        Assert.Null(system.TearDownAndAudit());
    }

    [Theory]
    [InlineData(false, "phys=0x0")]   // the old domain keeps its endpoint: its mapping is still on the device
    [InlineData(true, null)]          // mainline: counted short, re-created empty by the revert's ATTACH, nothing replayed
    public void A_virtio_attach_whose_request_fails_is_enomem_and_leaves_the_device_on_its_old_domain(bool mainline, string? phys)
    {
        var system = Create([new IommuSpec("viommu0", DriverNames.Virtio, IommuOptions.None)], [Platform("dev0", "viommu0", "g0")],
            bugs: mainline ? ["viommu_attach_drops_endpoint_early"] : []);
        var outcomes = system.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"),
            new DmaMap("dev0", 0, 0x1000, DmaDirections.Bidirectional, 0), new FailNth(1), new AttachGroup("d1", "dev0"),
            new GetDomain("dev0"), new DeviceDma("dev0", 0xfffffffff000, 4, false));
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0xfffffffff000)), outcomes[2]);
        Assert.Equal(Fails(Errno.ENOMEM, Line(Warn.FaultSites.ViommuAttachReq, "dev0")), outcomes[4]);
        Assert.Equal(Outcome.OkWith(DomainNames.Default), outcomes[5]);
        if (phys is not null) Assert.Equal(Outcome.OkWith(phys), outcomes[6]);
        else Assert.Equal(Errno.EIO, outcomes[6].Errno);
    }

    [Theory]
    [InlineData(false, 0x201000UL, 0x2000UL, "translation")]   // sent first: the tree and the device keep it, the next unmap takes it
    [InlineData(true, 0UL, 0UL, null)]                          // mainline: gone from the tree, kept by the device for good
    public void A_virtio_unmap_whose_request_fails_answers_0_and_the_driver_keeps_what_the_device_maps(bool mainline, ulong phys, ulong again, string? fault)
    {
        var system = Create([new IommuSpec("viommu0", DriverNames.Virtio, IommuOptions.None)], [Platform("dev0", "viommu0", "g0")],
            bugs: mainline ? ["viommu_unmap_forgets_on_failed_req"] : []);
        var outcomes = system.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new AttachDevice("d1", "dev0"),
            new Map("d1", 0x100000, 0x200000, 0x2000, "rw"), new FailNth(1), new Unmap("d1", 0x100000, 0x2000),
            new IovaToPhys("d1", 0x101000), new Unmap("d1", 0x100000, 0x2000), new DeviceDma("dev0", 0x100000, 1, false));
        Assert.Equal(new Outcome(Errno.OK, OutcomeValues.Number(0), [Line(Warn.FaultSites.ViommuUnmapReq)]), outcomes[5]);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(phys)), outcomes[6]);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(again)), outcomes[7]);
        Assert.Equal(fault is null ? Outcome.OkWith(DmaValues.Phys(0x200000)) : new Outcome(Errno.EIO, DmaValues.Fault(fault), []), outcomes[8]);
        Assert.Equal(mainline, system.DriverHardwareDisagreement(system.DomainOfHandle("d1")!.Id) is not null);
    }

    [Fact]
    public void A_smmuv3_master_allocates_its_cd_table_at_its_first_stage_1_attach_and_keeps_it()
    {
        var system = Create([Smmu0], [Pci("dev0")], config: SystemConfig.Default with { DefaultDomain = DefaultDomainType.Identity });
        var outcomes = system.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new Map("d1", 0x100000, 0x200000, 0x1000, "rw"),
            new FailNth(1), new AttachDevice("d1", "dev0"), new GetDomain("dev0"), new DeviceDma("dev0", 0x100000, 1, false),
            new AttachDevice("d1", "dev0"), new DetachDevice("d1", "dev0"), new FailNth(1), new AttachDevice("d1", "dev0"),
            new DeviceDma("dev0", 0x100000, 1, false));
        Assert.Equal(Fails(Errno.ENOMEM, Line(Warn.FaultSites.ArmSmmuCdTable, "dev0")), outcomes[4]);
        Assert.Equal(Outcome.OkWith(DomainNames.Default), outcomes[5]);
        Assert.Equal(Outcome.OkWith("phys=0x100000"), outcomes[6]);   // still on identity: nothing was installed
        Assert.Equal(Outcome.Ok, outcomes[7]);
        Assert.Equal(Outcome.Ok, outcomes[10]);                       // the table made at the first attach: nothing to fail
        Assert.Equal(Outcome.OkWith("phys=0x200000"), outcomes[11]);
        Assert.Null(system.TearDownAndAudit());
    }

    [Fact]
    public void A_revert_meets_the_failure_when_the_switch_itself_allocated_nothing()
    {
        // the blocking domain is refused by the core (require_direct) before the driver is asked; the revert re-attaches
        // the device to its default, and that ATTACH is the first allocation
        var system = Create([new IommuSpec("viommu0", DriverNames.Virtio, IommuOptions.None)],
            [Pci("dev0", iommu: "viommu0") with { RequireDirect = true }]);
        var outcomes = system.Run(new Probe("dev0"), new FailNth(1), new ClaimDmaOwner("dev0", "o1"),
            new DmaMap("dev0", 0, 0x1000, DmaDirections.Bidirectional, 0));
        Assert.Equal(Fails(Errno.EINVAL, Line(Warn.FaultSites.ViommuAttachReq, "dev0"), Warn.SetDomainRevertFailed), outcomes[2]);
        Assert.Equal(Errno.OK, outcomes[3].Errno);
        Assert.Null(system.TearDownAndAudit());
    }

    [Fact]
    public void The_mock_driver_allocates_nothing_in_probe_device()
    {
        // n = 2 passes dev_iommu and meets the group: the mock's probe_device has no structure of its own
        var system = Create([new IommuSpec("u0", DriverNames.Mock, IommuOptions.None)], [Platform("dev0", "u0", "g0")]);
        var outcomes = system.Run(new FailNth(2), new Probe("dev0"));
        Assert.Equal(Fails(Errno.ENOMEM, Line(Warn.FaultSites.Group, "dev0")), outcomes[1]);
        Assert.Null(system.TearDownAndAudit());
    }

    [Fact]
    public void A_bus_probe_aborts_at_the_device_whose_structure_fails_and_keeps_the_devices_before_it()
    {
        // dev0: dev_iommu 1, master 2, group 3, group_device 4; dev1 (its own group g1): dev_iommu 5, master 6, group 7
        var system = Create([Smmu0], [Pci("dev0"), Pci("dev1", group: "g1")]);
        var outcomes = system.Run(new FailNth(7), new BusProbe(BusNames.Pci), new GetDomain("dev1"), new Probe("dev1"), new GetDomain("dev0"));
        Assert.Equal(Fails(Errno.ENOMEM, Line(Warn.FaultSites.Group, "dev1")), outcomes[1]);
        Assert.Equal(Outcome.OkWith(DomainNames.None), outcomes[2]);
        // dev0 was probed and queued; the abort came before the queued groups' default domains (bus_iommu_probe returns
        // at once), so dev0's group has none yet: a hot probe of dev1 does not give it one either.
        Assert.Equal(Outcome.Ok, outcomes[3]);
        Assert.Equal(Outcome.OkWith(DomainNames.None), outcomes[4]);
    }

    [Theory]
    [InlineData(5, Warn.FaultSites.Domain)]      // ops->domain_alloc_paging's struct
    [InlineData(6, Warn.FaultSites.TableRoot)]   // its io-pgtable's pgd (arm_lpae_alloc_pgtable): the struct is freed
    [InlineData(7, Warn.FaultSites.Cookie)]      // iommu_get_dma_cookie(): the domain is freed
    public void A_failed_dma_fq_default_domain_falls_back_to_dma_with_the_kernel_warning(int n, string site)
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        var outcomes = system.Run(new FailNth((ulong)n), new Probe("dev0"), new GroupTypeRead("dev0"));
        Assert.Equal(Fails(Errno.OK, Line(site, "dev0"), Warn.DefaultDomainFallbackDma), outcomes[1]);
        Assert.Equal(Outcome.OkWith(GroupTypeStrings.Dma), outcomes[2]);
        Assert.Null(system.TearDownAndAudit());
    }

    [Fact]
    public void A_failed_dma_default_domain_is_einval_without_a_fallback()
    {
        // iommu_group_alloc_default_domain(): "if (iommu_def_domain_type == IOMMU_DOMAIN_DMA) return ERR_PTR(-EINVAL)"
        var system = Create([Smmu0], [Pci("dev0")], config: SystemConfig.Default with { DefaultDomain = DefaultDomainType.Dma });
        var outcomes = system.Run(new FailNth(5), new Probe("dev0"), new GetDomain("dev0"));
        Assert.Equal([Outcome.Ok, Fails(Errno.EINVAL, Line(Warn.FaultSites.Domain, "dev0")), Outcome.OkWith(DomainNames.None)], outcomes);
        Assert.Null(system.TearDownAndAudit());
    }

    [Fact]
    public void A_failed_requested_dma_domain_is_enomem()
    {
        // an untrusted device requests DMA: no fallback, the allocation's -ENOMEM
        var system = Create([Smmu0], [Pci("dev0") with { Untrusted = true }]);
        var outcomes = system.Run(new FailNth(7), new Probe("dev0"), new GetDomain("dev0"));
        Assert.Equal([Outcome.Ok, Fails(Errno.ENOMEM, Line(Warn.FaultSites.Cookie, "dev0")), Outcome.OkWith(DomainNames.None)], outcomes);
    }

    [Fact]
    public void A_sysfs_type_write_whose_domain_fails_answers_enomem_and_keeps_the_old_default()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        var outcomes = system.Run(new Probe("dev0"), new FailNth(1), new GroupTypeWrite("dev0", GroupTypeStrings.Identity),
            new GroupTypeWrite("dev0", GroupTypeStrings.Dma), new GroupTypeRead("dev0"), new DmaMap("dev0", 0x1000, 0x1000, DmaDirections.ToDevice, 0));
        // identity is static (no allocation): the write succeeds; the DMA write meets the failure
        Assert.Equal(Outcome.Ok, outcomes[2]);
        Assert.Equal(Fails(Errno.ENOMEM, Line(Warn.FaultSites.Domain, "dev0")), outcomes[3]);
        Assert.Equal(Outcome.OkWith(GroupTypeStrings.Identity), outcomes[4]);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0x1000)), outcomes[5]);   // still dma-direct
    }

    [Fact]
    public void A_user_domain_whose_struct_fails_is_enomem_and_takes_no_handle()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        var outcomes = system.Run(new Probe("dev0"), new FailNth(1), new DomainAllocPaging("dev0", "d1"), new DomainFree("d1"),
            new DomainAllocPaging("dev0", "d1"));
        Assert.Equal([Outcome.Ok, Outcome.Ok, Fails(Errno.ENOMEM, Line(Warn.FaultSites.Domain, "dev0")), Outcome.Of(Errno.ENOENT), Outcome.Ok],
            outcomes);
    }

    [Theory]
    [InlineData("smmuv3")]
    [InlineData("vtd")]
    [InlineData("mock")]
    public void A_user_domain_whose_table_root_fails_is_enomem_and_leaves_no_frame(string driver)
    {
        // the driver's struct is the first allocation, the top-level table the second (virtio allocates no table)
        var dev = driver == DriverNames.Mock ? Platform("dev0", "u0", "g0") : Pci("dev0", iommu: "u0");
        var system = Create([new IommuSpec("u0", driver, IommuOptions.None)], [dev]);
        var outcomes = system.Run(new Probe("dev0"), new FailNth(2), new DomainAllocPaging("dev0", "d1"), new DomainFree("d1"),
            new DomainAllocPaging("dev0", "d1"));
        Assert.Equal([Outcome.Ok, Outcome.Ok, Fails(Errno.ENOMEM, Line(Warn.FaultSites.TableRoot, "dev0")), Outcome.Of(Errno.ENOENT), Outcome.Ok],
            outcomes);
        Assert.Null(system.TearDownAndAudit());
    }

    [Fact]
    public void A_failed_table_page_fails_the_map_after_unmapping_what_it_mapped()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        var outcomes = system.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new FailNth(4),
            new Map("d1", 0x1ff000, 0x10000, 0x2000, "rw"), new IovaToPhys("d1", 0x1ff000), new Map("d1", 0x1ff000, 0x10000, 0x2000, "rw"));
        Assert.Equal(Fails(Errno.ENOMEM, Line(Warn.FaultSites.TablePage)), outcomes[3]);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0)), outcomes[4]);   // the first chunk was unmapped again
        Assert.Equal(Outcome.Ok, outcomes[5]);
        Assert.Null(system.TearDownAndAudit());                              // the emptied tables went with the domain
    }

    [Fact]
    public void The_same_map_with_the_seeded_bug_leaves_its_first_chunk_mapped()
    {
        var system = Create([Smmu0], [Pci("dev0")], bugs: ["map_failure_not_unwound"]);
        var outcomes = system.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new FailNth(4),
            new Map("d1", 0x1ff000, 0x10000, 0x2000, "rw"), new IovaToPhys("d1", 0x1ff000));
        Assert.Equal(Fails(Errno.ENOMEM, Line(Warn.FaultSites.TablePage)), outcomes[3]);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0x10000)), outcomes[4]);
    }

    [Fact]
    public void A_failed_table_page_under_dma_map_frees_the_iova_and_answers_dma_mapping_error()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        // the first dma_map: the IOVA node (1), then the tables below the root (2-4); n = 2 fails the first table
        var outcomes = system.Run(new Probe("dev0"), new FailNth(2), new DmaMap("dev0", 0x1000, 0x1000, DmaDirections.ToDevice, 0),
            new DmaMap("dev0", 0x1000, 0x1000, DmaDirections.ToDevice, 0));
        Assert.Equal(Fails(Errno.OK, Line(Warn.FaultSites.TablePage)) with { Value = OutcomeValues.Number(DmaArgs.MappingError) }, outcomes[2]);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0xfffff000)), outcomes[3]);   // the freed IOVA is handed out again
        Assert.Null(system.TearDownAndAudit());
    }

    [Theory]
    [InlineData(2, Warn.FaultSites.ViommuMapping)]   // viommu_add_mapping's tree node: nothing added
    [InlineData(3, Warn.FaultSites.ViommuMapReq)]    // the MAP request's buffer: the node is deleted again
    public void A_virtio_map_whose_own_allocation_fails_frees_the_iova_and_leaves_the_tree_as_it_was(int n, string site)
    {
        var system = Create([new IommuSpec("viommu0", DriverNames.Virtio, IommuOptions.None)], [Pci("dev0", iommu: "viommu0")]);
        // the first dma_map: the IOVA node (1), the tree node (2), the MAP request (3: the default domain has an endpoint)
        var outcomes = system.Run(new Probe("dev0"), new FailNth((ulong)n), new DmaMap("dev0", 0x1000, 0x1000, DmaDirections.ToDevice, 0),
            new DmaMap("dev0", 0x1000, 0x1000, DmaDirections.ToDevice, 0));
        Assert.Equal(Fails(Errno.OK, Line(site)) with { Value = OutcomeValues.Number(DmaArgs.MappingError) }, outcomes[2]);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0xfffff000)), outcomes[3]);   // the same IOVA maps: no node left over it
        Assert.Null(system.TearDownAndAudit());
    }

    [Fact]
    public void A_bus_probe_names_the_device_whose_dma_set_up_met_the_failure()
    {
        // dev0 (g0) and dev1 (g1): the device structures 1-8; g0's domain 9, table root 10, cookie 11, dev0's CD table at
        // its first attach 12, dev0's set-up 13-44 (the rcaches, per bin its per-CPU array and two magazines per CPU, the
        // flush queue); g1's domain 45, root 46, cookie 47, dev1's CD table 48, then dev1's rcaches 49
        var system = Create([Smmu0], [Pci("dev0"), Pci("dev1", group: "g1")]);
        var outcomes = system.Run(new FailNth(49), new BusProbe(BusNames.Pci), new DmaMap("dev1", 0x5000, 0x1000, DmaDirections.ToDevice, 0),
            new DmaMap("dev0", 0x5000, 0x1000, DmaDirections.ToDevice, 0));
        Assert.Equal(Fails(Errno.OK, Line(Warn.FaultSites.Rcaches, "dev1"), Warn.DmaSetupFailed), outcomes[1]);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0x5000)), outcomes[2]);       // dev1 on dma-direct
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(0xfffff000)), outcomes[3]);   // dev0's set-up went through
        Assert.Null(system.TearDownAndAudit());
    }
}
