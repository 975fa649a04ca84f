using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>
/// The fault gate at a PASID operation's allocations (docs/dma.md): smmuv3's CD table and its leaves at
/// <c>set_dev_pasid</c>, and iommu_sva_bind_device's mm data, bond and SVA domain, each -ENOMEM with nothing left behind
/// but what the kernel keeps (the table, a leaf, the mm's PASID).
/// </summary>
public class PasidFaultTests
{
    private static readonly SystemConfig Identity = SystemConfig.Default with { DefaultDomain = DefaultDomainType.Identity };

    private static string Line(string site) => Warn.FaultInjectionPrefix + Warn.FaultSites.Key(site, "dev0");

    private static Outcome Fails(string site) => new(Errno.ENOMEM, null, [Line(site)]);

    [Fact]
    public void A_smmuv3_pasid_set_allocates_the_cd_table_then_its_leaf_and_keeps_both()
    {
        var system = Create([Smmu0], [Pci("dev0") with { MaxPasids = 2048 }], config: Identity);
        var outcomes = system.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"),
            new FailNth(1), new AttachDevicePasid("d1", "dev0", 1024),
            new FailNth(2), new AttachDevicePasid("d1", "dev0", 1024),
            new FailNth(1), new AttachDevicePasid("d1", "dev0", 5), new AttachDevicePasid("d1", "dev0", 1024),
            new AttachDevicePasid("d1", "dev0", 1024 + 7), new DetachDevicePasid("d1", "dev0", 1024), new FailNth(1),
            new AttachDevicePasid("d1", "dev0", 1024), new AttachDevice("d1", "dev0"));
        Assert.Equal(Fails(Warn.FaultSites.ArmSmmuCdTable), outcomes[3]);
        Assert.Equal(Fails(Warn.FaultSites.ArmSmmuCdLeaf), outcomes[5]);
        Assert.Equal(Outcome.Ok, outcomes[7]);                          // the table was kept: PASID 5 allocates nothing
        Assert.Equal(Fails(Warn.FaultSites.ArmSmmuCdLeaf), outcomes[8]);  // the failure still pending meets the leaf again
        Assert.Equal(Outcome.Ok, outcomes[9]);                          // the leaf made now
        Assert.Equal(Outcome.Ok, outcomes[12]);                         // and kept after the detach
        Assert.Equal(Outcome.Ok, outcomes[13]);                         // a RID attach finds the table too
        Assert.Null(system.TearDownAndAudit());
    }

    [Fact]
    public void A_scalable_vtd_set_allocates_a_pasid_table_per_64_pasids_and_answers_enodev_when_it_cannot()
    {
        var system = Create([new IommuSpec("vtd0", DriverNames.Vtd, new IommuOptions(Scalable: true))],
            [Pci("dev0", iommu: "vtd0") with { MaxPasids = 256 }]);
        var outcomes = system.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new Map("d1", 0x100000, 0x200000, 0x1000, "rw"),
            new FailNth(1), new AttachDevicePasid("d1", "dev0", 5), new AttachDevicePasid("d1", "dev0", 64),
            new AttachDevicePasid("d1", "dev0", 64), new DeviceDma("dev0", 0x100000, 4, false, 64),
            new DetachDevicePasid("d1", "dev0", 64), new FailNth(1), new AttachDevicePasid("d1", "dev0", 65));
        Assert.Equal(Outcome.Ok, outcomes[4]);   // PASID 5 is in the RID's table
        Assert.Equal(new Outcome(Errno.ENODEV, null, [Line(Warn.FaultSites.IntelPasidTable)]), outcomes[5]);
        Assert.Equal(Outcome.Ok, outcomes[6]);
        Assert.Equal(Outcome.OkWith(DmaValues.Phys(0x200000)), outcomes[7]);
        Assert.Equal(Outcome.Ok, outcomes[10]);  // the table kept after the detach
        Assert.Null(system.TearDownAndAudit());
    }

    [Fact]
    public void A_scalable_vtd_probe_allocates_the_pasid_directory_after_its_device_domain_info()
    {
        var system = Create([new IommuSpec("vtd0", DriverNames.Vtd, new IommuOptions(Scalable: true))], [Pci("dev0", iommu: "vtd0") with { MaxPasids = 16 }]);
        var outcomes = system.Run(new FailNth(3), new Probe("dev0"), new GetDomain("dev0"), new Probe("dev0"),
            new DeviceDma("dev0", 0x1000, 4, false));
        Assert.Equal(Fails(Warn.FaultSites.IntelPasidDir), outcomes[1]);
        Assert.Equal(Outcome.OkWith(DomainNames.None), outcomes[2]);
        Assert.Equal(Outcome.Ok, outcomes[3]);
        Assert.Equal(new Outcome(Errno.EIO, DmaValues.Fault(DmaFaults.Translation), []), outcomes[4]);   // on its DMA-FQ domain
        Assert.Null(system.TearDownAndAudit());
    }

    [Theory]
    [InlineData(1, Warn.FaultSites.IommuMmData, 1)]      // before the mm's PASID: the next mm gets PASID 1
    [InlineData(2, Warn.FaultSites.SvaBond, 2)]          // after it: m1 keeps PASID 1
    [InlineData(3, Warn.FaultSites.Domain, 2)]           // arm_smmu_sva_domain_alloc
    [InlineData(4, Warn.FaultSites.ArmSmmuCdTable, 2)]   // the new domain's set_dev_pasid; the domain is freed
    public void A_bind_whose_structure_fails_answers_enomem_in_the_kernels_order(int n, string site, ulong next)
    {
        var system = Create([Smmu0], [Pci("dev0") with { MaxPasids = 16 }], config: Identity);
        var outcomes = system.Run(new Probe("dev0"), new MmNew("m1"), new FailNth((ulong)n), new SvaBind("dev0", "m1", "b1"),
            new SvaGetPasid("b1"), new MmNew("m2"), new SvaBind("dev0", "m2", "b2"), new SvaGetPasid("b2"));
        Assert.Equal(Fails(site), outcomes[3]);
        Assert.Equal(Errno.ENOENT, outcomes[4].Errno);
        Assert.Equal(Outcome.Ok, outcomes[6]);
        Assert.Equal(Outcome.OkWith(OutcomeValues.Number(next)), outcomes[7]);
        Assert.Null(system.TearDownAndAudit());
    }
}
