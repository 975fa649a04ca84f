using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Virtio;
using IommuConformance.Implementations.PageTable;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.HwRig;
using static IommuConformance.Properties.ImplementationTests.Machine;
using S = IommuConformance.Implementations.PageTable.VirtioIommuStatus;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>
/// The emulated virtio-iommu device (request and event queues in memory, endpoint and domain tables, spec-strict
/// UNMAP, no IOTLB) and the virtio driver programming it through the request queue.
/// </summary>
public class VirtioHardwareTests
{
    private static readonly IommuSpec Virtio0 = new("virtio0", DriverNames.Virtio, IommuOptions.None);

    private static VirtioIommuHardware Hw(IommuSystem s) => Assert.IsType<VirtioIommuHardware>(s.HardwareOf("virtio0"));

    // ---------------------------------------------------------------- malformed requests: a status, never an exception

    [Fact]
    public void An_unknown_request_type_answers_unsupp()
    {
        var rig = new VirtioRig();
        var req = VirtioRig.AttachReq(1, 0);
        req[0] = 9;
        Assert.Equal(S.Unsupp, rig.Send(req));
        Assert.Equal(S.Unsupp, rig.Send([0, 0, 0, 0]));
        Assert.False(rig.Hw.NeedsReset);
        Assert.Equal(S.Ok, rig.Attach(1, 0));   // the queue goes on
    }

    [Theory]
    [InlineData(ViommuReq.Attach, ViommuReq.AttachBytes)]
    [InlineData(ViommuReq.Detach, ViommuReq.DetachBytes)]
    [InlineData(ViommuReq.Map, ViommuReq.MapBytes)]
    [InlineData(ViommuReq.Unmap, ViommuReq.UnmapBytes)]
    [InlineData(ViommuReq.Probe, ViommuReq.ProbeBytes)]
    public void A_request_shorter_than_its_type_answers_deverr_and_changes_nothing(byte type, int bytes)
    {
        var rig = new VirtioRig();
        Assert.Equal(S.Ok, rig.Attach(1, 0));
        Assert.Equal(S.Ok, rig.Map(1, 0, 0xFFF, 0xa1000));
        var req = new byte[bytes - 1];
        req[0] = type;
        req[4] = 1;   // domain 1 (or endpoint 1): a valid request but for its length
        Assert.Equal(S.DevErr, rig.Send(req, type == ViommuReq.Probe ? rig.Hw.ProbeSize + 4 : 4));
        Assert.Equal(S.DevErr, rig.Send([type, 0]));   // not even a whole head
        Assert.Equal(1, rig.Hw.DomainMappingCounts[1]);
        Assert.Equal(DmaTranslation.Ok(0xa1010, 0xFFF), rig.Dma(0, 0x10));
        Assert.False(rig.Hw.NeedsReset);
    }

    [Fact]
    public void A_request_with_no_room_for_its_tail_stops_the_device_until_reset()
    {
        var rig = new VirtioRig();
        Assert.Null(rig.Send(VirtioRig.AttachReq(1, 0), writable: 0));
        Assert.True(rig.Hw.NeedsReset);
        Assert.Null(rig.Send(VirtioRig.AttachReq(1, 0)));   // nothing is processed any more
        Assert.Empty(rig.Hw.DomainMappingCounts);
        rig.Hw.WriteReg(ViommuRegs.Status, 0);   // reset
        Assert.False(rig.Hw.NeedsReset);
    }

    [Fact]
    public void A_descriptor_chain_into_unbacked_memory_stops_the_device()
    {
        var rig = new VirtioRig();
        Assert.Equal(Errno.OK, rig.Requests.AddSgs([(0x7000_0000, 20)], [(0x7000_1000, 4)], out _));
        rig.Requests.Kick();
        Assert.True(rig.Hw.NeedsReset);
        Assert.Null(rig.Requests.GetBuf());
    }

    [Fact]
    public void Map_checks_flags_granule_and_input_range()
    {
        var rig = new VirtioRig();
        Assert.Equal(S.Ok, rig.Attach(1, 0));
        Assert.Equal(S.Inval, rig.Map(1, 0, 0xFFF, 0, flags: 8));
        Assert.Equal(S.Range, rig.Map(1, 0x10, 0xFFF, 0));
        Assert.Equal(S.Range, rig.Map(1, 0, 0xFFF, 0x10));
        Assert.Equal(S.Range, rig.Map(1, 1UL << 48, (1UL << 48) + 0xFFF, 0));
        Assert.Equal(S.Ok, rig.Attach(1, 0));   // re-attach to the same domain
        Assert.Empty(rig.Hw.MappingsOf(1));
    }

    [Fact]
    public void Probe_reports_reserved_regions_and_refuses_an_unknown_endpoint()
    {
        var rig = new VirtioRig();
        rig.Hw.AddReservedRegion(0, 0x800_0000, 0x80F_FFFF, ViommuProbe.ResvMemMsi);
        var probe = new byte[ViommuReq.ProbeBytes];
        probe[0] = ViommuReq.Probe;
        var (status, reply) = rig.SendFull(probe, rig.Hw.ProbeSize + 4);
        Assert.Equal(S.Ok, status);
        Assert.Equal(ViommuProbe.TResvMem, BitConverter.ToUInt16(reply, 0));
        Assert.Equal(ViommuProbe.ResvMemMsi, reply[4]);
        Assert.Equal(0x800_0000UL, BitConverter.ToUInt64(reply, 8));
        Assert.Equal(0x80F_FFFFUL, BitConverter.ToUInt64(reply, 16));
        Assert.Equal(0, BitConverter.ToUInt16(reply, 24));   // then NONE
        probe[4] = 77;
        Assert.Equal(S.NoEnt, rig.Send(probe, rig.Hw.ProbeSize + 4));
        // the MSI window passes through a translating domain
        Assert.Equal(S.Ok, rig.Attach(1, 0));
        Assert.Equal(DmaTranslation.Ok(0x800_0040, 0x80F_FFFF), rig.Dma(0, 0x800_0040));
    }

    [Fact]
    public void Faults_without_event_buffers_are_dropped_and_counted()
    {
        var rig = new VirtioRig();
        Assert.Equal(S.Ok, rig.Attach(1, 0));
        for (var i = 0; i < 10; i++) rig.Dma(0, 0x10_0000);
        Assert.Equal(8, rig.Hw.EventsRecorded);
        Assert.Equal(2, rig.Hw.EventsDropped);
        Assert.Equal(8, rig.Faults().Count);
    }

    // ---------------------------------------------------------------- the driver through the request queue

    [Fact]
    public void The_driver_attaches_maps_and_the_device_translates_without_a_cache()
    {
        var (system, domain) = Attached(Virtio0, Pci("dev0", "virtio0"));
        var hw = Hw(system);
        Assert.False(hw.Bypass);   // cleared at probe: a detached endpoint must fault
        Assert.Equal(new HwContext(HwContextKind.Translate, domain.Id), system.SnapshotDevice("dev0").Context);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 2 * VirtioRig.P, IommuProt.Read | IommuProt.Write, out _));
        Assert.Equal([new VirtioMapping(Iova, Iova + 2 * VirtioRig.P - 1, Phys, VirtioMapFlags.Read | VirtioMapFlags.Write)], hw.MappingsOf((uint)domain.Id));
        Assert.Equal(Phys + 0x1008, system.DeviceDma("dev0", Iova + 0x1008, 8, true).Phys);
        Assert.Equal(Phys + 0x1008, domain.IovaToPhys(Iova + 0x1008, out _));
        // from a MAP's start the whole MAP goes, on both sides
        Assert.Equal(2 * VirtioRig.P, domain.Unmap(Iova, VirtioRig.P, out _));
        Assert.Empty(hw.MappingsOf((uint)domain.Id));
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", Iova, 4, false).Fault);
        Assert.Equal(0UL, domain.IovaToPhys(Iova, out _));
    }

    [Fact]
    public void A_domain_without_endpoints_is_gone_from_the_device_and_replayed_on_attach()
    {
        var (system, domain) = Attached(Virtio0, Pci("dev0", "virtio0"));
        var hw = Hw(system);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, VirtioRig.P, IommuProt.Read, out _));
        system.Run(new DetachDevice("d1", "dev0"));   // back to the default domain: the device drops domain d1
        Assert.False(hw.DomainMappingCounts.ContainsKey((uint)domain.Id));
        Assert.Equal(Phys, domain.IovaToPhys(Iova, out _));   // the driver keeps its tree
        Assert.Equal(Errno.OK, domain.Map(Iova + VirtioRig.P, Phys + VirtioRig.P, VirtioRig.P, IommuProt.Read, out _));   // no MAP sent
        Assert.False(hw.DomainMappingCounts.ContainsKey((uint)domain.Id));
        Assert.Equal(Errno.OK, system.Execute(new AttachDevice("d1", "dev0")).Errno);
        Assert.Equal(2, hw.DomainMappingCounts[(uint)domain.Id]);   // replayed
        Assert.Equal(Phys + VirtioRig.P + 4, system.DeviceDma("dev0", Iova + VirtioRig.P + 4, 4, false).Phys);
    }

    [Fact]
    public void Identity_is_a_bypass_attach_blocking_and_release_detach()
    {
        var system = Create([Virtio0], [Pci("dev0", "virtio0"), Pci("dev1", "virtio0", "g1")], config: SystemConfig.Default with { DefaultDomain = DefaultDomainType.Identity });
        Assert.Equal(Errno.OK, system.Execute(new Probe("dev0")).Errno);
        Assert.Equal(new HwContext(HwContextKind.Bypass, null), system.SnapshotDevice("dev0").Context);
        Assert.Equal(0x5000UL, system.DeviceDma("dev0", 0x5000, 4, true).Phys);
        Assert.Equal(Errno.OK, system.Execute(new ClaimGroupDmaOwner("dev0", "o1")).Errno);   // the blocking domain
        Assert.Equal(new HwContext(HwContextKind.Abort, null), system.SnapshotDevice("dev0").Context);
        Assert.Equal(DmaFault.Blocked, system.DeviceDma("dev0", 0x5000, 4, false).Fault);
        Assert.Equal(Errno.OK, system.Execute(new ReleaseGroupDmaOwner("dev0")).Errno);
        Assert.Equal(Errno.OK, system.Execute(new Release("dev0")).Errno);
        Assert.Equal(new HwContext(HwContextKind.Abort, null), system.SnapshotDevice("dev0").Context);
        // dev1 never attached: the device has no endpoint for it, and with bypass off it faults too
        Assert.Equal(new HwContext(HwContextKind.Abort, null), system.SnapshotDevice("dev1").Context);
        Assert.Equal(DmaFault.Blocked, system.DeviceDma("dev1", 0x5000, 4, false).Fault);
        var viommu = Assert.IsType<VirtioIommuHardware>(system.HardwareOf("virtio0"));
        Assert.True(viommu.EventsRecorded >= 2);
    }

    [Fact]
    public void Driver_refuses_what_the_device_would_and_keeps_its_tree_equal_to_the_device()
    {
        var (system, domain) = Attached(Virtio0, Pci("dev0", "virtio0"));
        var hw = Hw(system);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 2 * VirtioRig.P, IommuProt.Read, out _));
        Assert.Equal(Errno.EINVAL, domain.Map(Iova + VirtioRig.P, Phys, VirtioRig.P, IommuProt.Read, out _));   // overlap
        Assert.Equal(Errno.ERANGE, domain.Map(1UL << 48, Phys, VirtioRig.P, IommuProt.Read, out _));         // past the input range
        Assert.Equal(0UL, domain.Unmap(Iova + VirtioRig.P, VirtioRig.P, out _));                              // a split
        Assert.Equal(0UL, domain.Unmap(Iova, 4 * VirtioRig.P, out _));                                        // covers less than asked
        var tree = ((VirtioDomain)domain).Mappings.All.Select(m => (m.Start, m.Last, m.Paddr)).ToList();
        Assert.Equal(hw.MappingsOf((uint)domain.Id).Select(m => (m.VirtStart, m.VirtEnd, m.PhysStart)).ToList(), tree);
        Assert.Single(tree);
    }

    [Fact]
    public void Tables_return_to_baseline_and_no_request_is_lost()
    {
        var system = Create([Virtio0], [Pci("dev0", "virtio0")]);
        var baseline = system.LiveFrames;
        system.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new AttachDevice("d1", "dev0"),
            new Map("d1", Iova, Phys, 0x10_0000, "rw"), new DetachDevice("d1", "dev0"), new DomainFree("d1"));
        Assert.Equal(baseline, system.LiveFrames);
        var driverSide = Hw(system);
        Assert.False(driverSide.NeedsReset);
        Assert.Equal(0, driverSide.RequestErrors);
    }
}
