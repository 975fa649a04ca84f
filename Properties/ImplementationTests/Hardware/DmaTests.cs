using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Mock;
using IommuConformance.Implementations.PageTable;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.HwRig;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>DMA through each driver's hardware: after map, after unmap, identity and blocking; table pages at free.</summary>
public class DmaTests
{
    public static TheoryData<string> Drivers => [DriverNames.Smmuv3, DriverNames.Mock];

    private static (IommuSpec Iommu, DeviceSpec Dev) MachineOf(string driver) => driver == DriverNames.Mock
        ? (Mock0, Platform("dev0", "mock0", "g0"))
        : (Smmu0, Pci("dev0"));

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Dma_reaches_what_is_mapped_and_faults_after_the_unmap(string driver)
    {
        var (iommu, dev) = MachineOf(driver);
        var (system, domain) = Attached(iommu, dev);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x4000, IommuProt.Read, out _));
        Assert.Equal(Phys + 0x2010, domain.IovaToPhys(Iova + 0x2010, out _));
        Assert.Equal(new DmaResult(Errno.OK, Phys + 0x2010, null), system.DeviceDma("dev0", Iova + 0x2010, 0x1000, write: false));
        Assert.Equal(new DmaResult(Errno.EIO, 0, DmaFault.Permission), system.DeviceDma("dev0", Iova, 4, write: true));
        // An access that runs past the mapping faults on the page it reaches.
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", Iova + 0x3000, 0x2000, write: false).Fault);

        Assert.Equal(0x4000UL, domain.Unmap(Iova, 0x4000, out _));
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", Iova + 0x2010, 4, write: false).Fault);
        Assert.All(system.PossibleTranslations("dev0", Iova, write: false), p => Assert.False(p.Translation.IsOk));
    }

    [Fact]
    public void Identity_translates_one_to_one_and_blocking_faults()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        system.Run(new Probe("dev0"), new GroupTypeWrite("dev0", "identity"));
        Assert.Equal(new DmaResult(Errno.OK, 0x1234_5678, null), system.DeviceDma("dev0", 0x1234_5678, 8, write: true));
        system.Execute(new ClaimDmaOwner("dev0", "o1"));
        Assert.Equal(new DmaResult(Errno.EIO, 0, DmaFault.Blocked), system.DeviceDma("dev0", 0x1234_5678, 8, write: true));
    }

    [Fact]
    public void The_mock_blocks_by_its_static_default_and_has_no_cache()
    {
        var system = Create([Mock0], [Platform("dev0", "mock0", "g0"), Platform("dev1", "mock0", "g1")]);
        system.Execute(new Probe("dev0"));
        Assert.Equal(DmaFault.Blocked, system.DeviceDma("dev0", 0x100_0000, 4, write: false).Fault);
        Assert.Equal(DmaFault.ContextEntry, system.DeviceDma("dev1", 0x100_0000, 4, write: false).Fault);   // never attached
        var (attached, domain) = Attached(Mock0, Platform("dev0", "mock0", "g0"));
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x800, IommuProt.Read | IommuProt.Write, out _));   // one 2 KiB page
        Assert.Equal(Phys + 0x7FF, attached.DeviceDma("dev0", Iova + 0x7FF, 1, write: true).Phys);
        Assert.Equal(DmaFault.Translation, attached.DeviceDma("dev0", Iova + 0x800, 1, write: true).Fault);
        Assert.Equal([TranslationSource.FreshWalk], attached.PossibleTranslations("dev0", Iova, write: false).Select(p => p.Source));
        var hw = Assert.IsType<MockHardware>(attached.HardwareOf("mock0"));
        Assert.Equal(new HwContext(HwContextKind.Translate, domain.Id), attached.SnapshotDevice("dev0").Context);
        Assert.Single(hw.FaultLog);
        attached.Execute(new Release("dev0"));
        Assert.Equal(HwContext.None, attached.SnapshotDevice("dev0").Context);
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Table_pages_are_back_to_baseline_after_the_domain_is_freed(string driver)
    {
        var (iommu, dev) = MachineOf(driver);
        var system = Create([iommu], [dev]);
        system.Execute(new Probe("dev0"));
        var baseline = system.LiveFrames;
        system.Run(new DomainAllocPaging("dev0", "d1"), new AttachDevice("d1", "dev0"));
        var domain = Assert.IsAssignableFrom<Implementations.Drivers.PagingDomain>(system.DomainOfHandle("d1"));
        for (ulong i = 0; i < 8; i++)
            Assert.Equal(Errno.OK, domain.Map(0x4000_0000 + i * 0x40_0000, Phys + i * 0x40_0000, 0x20_1000, IommuProt.Read, out _));
        Assert.True(system.LiveFrames > baseline + 8);
        Assert.Equal(Errno.OK, system.Execute(new DetachDevice("d1", "dev0")).Errno);
        Assert.Equal(Errno.OK, system.Execute(new DomainFree("d1")).Errno);
        Assert.Equal(baseline, system.LiveFrames);
        Assert.Equal(0, domain.TableFrames);
        Assert.Empty(system.HardwareErrors);
    }

    [Fact]
    public void Bad_dma_input_is_an_errno_never_an_exception()
    {
        var system = Create([Smmu0], [Pci("dev0"), new DeviceSpec("bare", BusNames.Pci, null, "g1")]);
        Assert.Equal(Errno.ENODEV, system.DeviceDma("nope", 0, 4, write: false).Errno);
        Assert.Equal(Errno.EINVAL, system.DeviceDma("dev0", 0, 0, write: false).Errno);
        Assert.Equal(new DmaResult(Errno.OK, 0x7000, null), system.DeviceDma("bare", 0x7000, 4, write: false));   // no IOMMU
        Assert.Equal(DmaFault.BadSte, system.DeviceDma("dev0", ulong.MaxValue, 16, write: false).Fault);          // unprobed
    }

    [Fact]
    public void Every_fault_has_a_vocabulary_name()
    {
        Assert.Equal(["translation", "permission", "access", "address_size", "external_abort", "bad_ste", "context_entry", "blocked"],
            Implementations.Hardware.DmaFaults.All.Select(Implementations.Hardware.DmaFaults.Name));
    }
}
