using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Hardware;
using DmaFaults = IommuConformance.Contract.DmaFaults;
using IommuConformance.Implementations.Hardware.Vtd;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>
/// vtd's set_dev_pasid on a unit in scalable mode (docs/pasid-sva.md): the PASID-table entries it writes (second level
/// for a paging domain, first level on the mm's x86-64 table for SVA), the replace path, intel_mm_release at exit, and
/// seeded bug 38 pasid_teardown_skips_pc_inv off and on.
/// </summary>
public class VtdPasidDriverTests
{
    private static readonly IommuSpec Vtd0Sm = new("vtd0", DriverNames.Vtd, new IommuOptions(Scalable: true));
    private const ulong Va = 0x40_0000, Pa = 0x8000_0000;

    private static IommuSystem Machine(string? bug = null) =>
        Create([Vtd0Sm], [Pci("dev0", "vtd0") with { MaxPasids = 16 }], bug is null ? null : [bug]);

    private static Outcome Dma(IommuSystem s, ulong iova, ulong pasid, bool write = false) => s.Execute(new DeviceDma("dev0", iova, 1, write, pasid));

    private static Outcome Phys(ulong pa) => Outcome.OkWith(DmaValues.Phys(pa));

    private static Outcome Fault(string reason) => new(Errno.EIO, DmaValues.Fault(reason), []);

    [Fact]
    public void An_sva_bind_writes_a_first_level_entry_on_the_mms_x86_table()
    {
        var s = Machine();
        Assert.All(s.Run(new Probe("dev0"), new MmNew("m1"), new MmMap("m1", Va, Pa, 0x2000, "r"), new SvaBind("dev0", "m1", "h1")),
            o => Assert.Equal(Errno.OK, o.Errno));
        Assert.Equal(Phys(Pa + 0x1234), Dma(s, Va + 0x1234, 1));
        Assert.Equal(Fault(DmaFaults.Permission), Dma(s, Va, 1, write: true));   // read-only page: R/W clear in the x86 leaf
        Assert.Equal(Fault(DmaFaults.Translation), Dma(s, Va + 0x2000, 1));
        var hw = Assert.IsType<VtdHardware>(s.HardwareOf("vtd0"));
        Assert.Contains(1u, hw.PasidsInUse("dev0"));
    }

    [Fact]
    public void Mm_exit_tears_the_entry_down_and_the_dma_finds_none()
    {
        var s = Machine();
        s.Run(new Probe("dev0"), new MmNew("m1"), new MmMap("m1", Va, Pa, 0x1000, "rw"), new SvaBind("dev0", "m1", "h1"));
        Assert.Equal(Phys(Pa), Dma(s, Va, 1, write: true));
        Assert.Equal(Outcome.Ok, s.Execute(new MmExit("m1")));
        Assert.Equal(Fault(DmaFaults.NoDomain), Dma(s, Va, 1));   // intel_mm_release: cleared with FPD
        Assert.Equal(Outcome.Ok, s.Execute(new SvaUnbind("h1")));
        Assert.Equal(Fault(DmaFaults.NoDomain), Dma(s, Va, 1));
    }

    [Fact]
    public void A_paging_domain_at_a_pasid_is_second_level_and_replace_writes_over_it()
    {
        var s = Machine();
        Assert.All(s.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new DomainAllocPaging("dev0", "d2"),
            new Map("d1", 0, Pa, 0x1000, "rw"), new Map("d2", 0, Pa + 0x10_0000, 0x1000, "r"), new AttachDevicePasid("d1", "dev0", 3)),
            o => Assert.Equal(Errno.OK, o.Errno));
        Assert.Equal(Phys(Pa), Dma(s, 0, 3, write: true));
        Assert.Equal(Outcome.Ok, s.Execute(new ReplaceDevicePasid("d2", "dev0", 3)));
        Assert.Equal(Phys(Pa + 0x10_0000), Dma(s, 0, 3));
        Assert.Equal(Fault(DmaFaults.Permission), Dma(s, 0, 3, write: true));
        Assert.Equal(Outcome.Ok, s.Execute(new DetachDevicePasid("d2", "dev0", 3)));
        Assert.Equal(Fault(DmaFaults.NoDomain), Dma(s, 0, 3));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(BugCatalogue.PasidTeardownSkipsPcInv)]
    public void The_unbind_must_invalidate_the_cached_pasid_entry(string? bug)
    {
        var s = Machine(bug);
        s.Run(new Probe("dev0"), new MmNew("m1"), new MmMap("m1", Va, Pa, 0x1000, "rw"), new SvaBind("dev0", "m1", "h1"));
        Assert.Equal(Phys(Pa), Dma(s, Va, 1));   // the unit caches PASID 1's entry
        Assert.Equal(Outcome.Ok, s.Execute(new SvaUnbind("h1")));
        var cached = s.PossiblePasidTranslations("dev0", 1, Va, write: false)
            .Where(p => p.Source == TranslationSource.CachedConfig && p.Translation.IsOk).ToList();
        Assert.Equal(bug is null ? 0 : 1, cached.Count);
        Assert.Equal(bug is null ? Fault(DmaFaults.NoDomain) : Phys(Pa), Dma(s, Va, 1));
    }
}
