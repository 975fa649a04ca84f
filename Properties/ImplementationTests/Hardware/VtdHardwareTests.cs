using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Vtd;
using IommuConformance.Implementations.PageTable;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.HwRig;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>The emulated VT-d unit: root/context tables in memory, queued invalidation with waits, fault records.</summary>
public class VtdHardwareTests
{
    private static readonly IommuSpec Vtd0 = new("vtd0", DriverNames.Vtd, IommuOptions.None);
    private static readonly IommuSpec Vtd0Cm = new("vtd0", DriverNames.Vtd, new IommuOptions(CachingMode: true));

    private static VtdHardware Hw(IommuSystem s) => Assert.IsType<VtdHardware>(s.HardwareOf("vtd0"));

    private static void Submit(VtdHardware hw, (ulong Lo, ulong Hi) d)
    {
        var qbase = hw.ReadReg(VtdRegs.Iqa) & ~0xFFFUL;
        var tail = hw.ReadReg(VtdRegs.Iqt);
        hw.Memory.Write(qbase + tail, d.Lo);
        hw.Memory.Write(qbase + tail + 8, d.Hi);
        hw.WriteReg(VtdRegs.Iqt, (tail + 16) % 4096);
    }

    [Fact]
    public void The_context_entry_is_decoded_from_memory()
    {
        var (system, domain) = Attached(Vtd0, Pci("dev0", "vtd0"));
        var hw = Hw(system);
        var root = hw.Memory.Read(hw.ReadReg(VtdRegs.Rtaddr));
        Assert.Equal(VtdEntry.P, root & VtdEntry.P);
        var lo = hw.Memory.Read(root & VtdEntry.AddrMask);
        var hi = hw.Memory.Read((root & VtdEntry.AddrMask) + 8);
        Assert.Equal(domain.Pgtable.RootPhys, lo & VtdEntry.AddrMask);
        Assert.Equal((ulong)domain.Id, (hi >> VtdEntry.DidShift) & 0xFFFF);
        Assert.Equal(new HwContext(HwContextKind.Translate, domain.Id), system.SnapshotDevice("dev0").Context);
        // A device never attached has a not-present entry under a present root: blocked.
        Assert.Equal(HwContextKind.Abort, system.SnapshotDevice("spare").Context.Kind);
    }

    [Fact]
    public void Dma_after_map_and_after_unmap_with_page_selective_invalidation()
    {
        var (system, domain) = Attached(Vtd0, Pci("dev0", "vtd0"));
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x20_0000, IommuProt.Read | IommuProt.Write, out _));
        Assert.Equal(Phys + 0x1_2345, system.DeviceDma("dev0", Iova + 0x1_2345, 8, write: true).Phys);
        // generic_pt: an unmap of part of a 2M leaf removes the whole leaf; the invalidation covers what was removed.
        Assert.Equal(0x20_0000UL, domain.Unmap(Iova, 0x1000, out _));
        Assert.All(system.PossibleTranslations("dev0", Iova + 0x10_0000, write: false), p => Assert.False(p.Translation.IsOk));
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", Iova + 0x10_0000, 8, write: false).Fault);
    }

    [Fact]
    public void Invalidations_complete_at_the_wait_descriptor_which_writes_its_status()
    {
        var (system, domain) = Attached(Vtd0, Pci("dev0", "vtd0"));
        var hw = Hw(system);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read, out _));
        Assert.Equal(Phys, system.DeviceDma("dev0", Iova, 4, write: false).Phys);
        domain.Pgtable.UnmapPages(Iova, 0x1000, 1, new IotlbGather());          // behind the IOTLB's back
        Assert.Equal(Phys, system.DeviceDma("dev0", Iova, 4, write: false).Phys); // stale, as the hardware never tidies
        Submit(hw, VtdQi.IotlbPage(domain.Id, Iova, 0));
        Assert.Equal(1, hw.PendingInvalidations);
        Assert.Equal(Phys, system.DeviceDma("dev0", Iova, 4, write: false).Phys);
        var status = Phys + 0x10_0000;
        hw.Memory.Back(status);
        Submit(hw, VtdQi.Wait(status, 0xABCD));
        Assert.Equal(0xABCDUL, hw.Memory.Read(status) & 0xFFFF_FFFF);
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", Iova, 4, write: false).Fault);
    }

    [Fact]
    public void A_malformed_descriptor_sets_iqe_and_stops_the_queue_until_cleared()
    {
        var system = Create([Vtd0], [Pci("dev0", "vtd0")]);
        var hw = Hw(system);
        var head = hw.ReadReg(VtdRegs.Iqh);
        Submit(hw, (0xF, 0));                                                     // no such type
        Assert.Equal(VtdRegs.FstsIqe, (uint)hw.ReadReg(VtdRegs.Fsts) & VtdRegs.FstsIqe);
        Submit(hw, VtdQi.IotlbGlobal());
        Assert.Equal(head, hw.ReadReg(VtdRegs.Iqh));                              // stopped at the bad descriptor
        var qbase = hw.ReadReg(VtdRegs.Iqa) & ~0xFFFUL;
        var (lo, hi) = VtdQi.IotlbGlobal();
        hw.Memory.Write(qbase + head, lo);
        hw.Memory.Write(qbase + head + 8, hi);
        hw.WriteReg(VtdRegs.Fsts, VtdRegs.FstsIqe);                               // write 1 to clear: processing resumes
        Assert.Equal(hw.ReadReg(VtdRegs.Iqt), hw.ReadReg(VtdRegs.Iqh));
        Assert.Equal(0u, (uint)hw.ReadReg(VtdRegs.Fsts) & VtdRegs.FstsIqe);
    }

    [Fact]
    public void Fault_records_compress_per_source_and_overflow()
    {
        var devices = Enumerable.Range(0, 6).Select(i => Pci($"dev{i}", "vtd0", $"g{i}")).ToArray();
        var system = Create([Vtd0], devices);
        foreach (var d in devices) system.Execute(new Probe(d.Name));
        system.Execute(new ClaimDmaOwner("dev0", "o1"));          // dev0 blocked: context entry not present
        var hw = Hw(system);
        Assert.Equal(DmaFault.Blocked, system.DeviceDma("dev0", 0x1000, 4, write: false).Fault);
        Assert.Equal(DmaFault.Blocked, system.DeviceDma("dev0", 0x2000, 4, write: false).Fault);
        Assert.Equal((1L, 1L), (hw.FaultsRecorded, hw.FaultsCompressed));        // same source: compressed
        var frcdHi = hw.ReadReg(VtdRegs.Frcd + 8);
        Assert.Equal(VtdRegs.FrcdF, frcdHi & VtdRegs.FrcdF);
        Assert.Equal((ulong)VtdFaultReason.ContextNotPresent, (frcdHi >> 32) & 0xFF);
        Assert.Equal(0x1000UL, hw.ReadReg(VtdRegs.Frcd));

        // Identity devices do not fault; translated ones at an unmapped IOVA do, one record each, until PFO.
        for (var i = 1; i < 6; i++) Assert.Equal(DmaFault.Translation, system.DeviceDma($"dev{i}", 0x5000, 4, write: true).Fault);
        Assert.Equal(4L, hw.FaultsRecorded);
        Assert.Equal(VtdRegs.FstsPfo | VtdRegs.FstsPpf, (uint)hw.ReadReg(VtdRegs.Fsts) & (VtdRegs.FstsPfo | VtdRegs.FstsPpf));
        Assert.Equal(2L, hw.FaultsDropped);     // the fifth source found the next record full: PFO; then dropped while PFO
    }

    [Fact]
    public void Caching_mode_caches_a_not_present_translation_so_the_map_invalidates_too()
    {
        var (system, domain) = Attached(Vtd0Cm, Pci("dev0", "vtd0"));
        var hw = Hw(system);
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", Iova, 4, write: false).Fault);   // cached as not present
        Assert.Contains(system.PossibleTranslations("dev0", Iova, write: false), p => p.Source == TranslationSource.Iotlb);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read, out _));                // iotlb_sync_map flushes
        Assert.Equal(Phys, system.DeviceDma("dev0", Iova, 4, write: false).Phys);

        // Without the driver's flush the cached not-present entry would still answer: map straight into the table.
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", Iova + 0x1000, 4, write: false).Fault);
        Assert.Equal(Errno.OK, domain.Pgtable.MapPages(Iova + 0x1000, Phys, 0x1000, 1, IommuProt.Read, new IotlbGather(), out _));
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", Iova + 0x1000, 4, write: false).Fault);
        Assert.True(hw.CachingMode);
    }

    [Fact]
    public void Identity_is_pass_through_and_tables_return_to_baseline()
    {
        var system = Create([Vtd0], [Pci("dev0", "vtd0")]);
        system.Run(new Probe("dev0"), new GroupTypeWrite("dev0", "identity"));
        Assert.Equal(HwContextKind.Bypass, system.SnapshotDevice("dev0").Context.Kind);
        Assert.Equal(0x1234UL, system.DeviceDma("dev0", 0x1234, 4, write: true).Phys);
        var baseline = system.LiveFrames;
        system.Run(new DomainAllocPaging("dev0", "d1"), new ClaimDmaOwner("dev0", "o1"), new AttachDevice("d1", "dev0"));
        var domain = Assert.IsAssignableFrom<Implementations.Drivers.PagingDomain>(system.DomainOfHandle("d1"));
        Assert.Equal(Errno.OK, domain.Map(0x4000_0000, Phys, 0x40_1000, IommuProt.Read, out _));
        system.Run(new DetachDevice("d1", "dev0"), new DomainFree("d1"), new ReleaseDmaOwner("dev0"));
        Assert.Equal(baseline, system.LiveFrames);
        Assert.Empty(system.HardwareErrors);
    }
}
