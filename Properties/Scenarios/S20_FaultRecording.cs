using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Smmuv3;
using IommuConformance.Implementations.Hardware.Vtd;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.HwRig;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S20 (VT-d fault recording state machine; QEMU vtd_report_frcd_fault, vtd_try_collapse_fault,
/// vtd_generate_fault_event, vtd_is_qualified_fault; hardware-and-peers.md §6). Devices sit on their DMA default
/// domains, which map nothing, so every DMA faults with "read, not present" (06h). A fault from A is recorded (F,
/// PPF) and sends the fault event (FEDATA written to FEADDR once FECTL is unmasked); a second fault from A is
/// compressed; faults from B, C, D fill the other records without another event (PPF already pending); a fault
/// from E finds the next record full: PFO, dropped; while PFO is set even a new source is dropped; software clears
/// every F and PFO, and the next fault is recorded with a new event. With FPD in E's context entry, its fault is not
/// recorded at all. Adaptation: the scenario's "one FRCD" is the emulated unit's four (CAP.NFR = 3), so PFO comes at
/// the fifth source. SMMUv3 analogue: a translation fault is recorded only with CD.R = 1, an abort STE records nothing,
/// a full event queue drops the event and toggles EVTQ_PROD.OVFLG, and an event queue the SMMU cannot write toggles
/// GERROR.EVTQ_ABT_ERR (the architecture's names: the scenario's "EVENTQ_ABT_ERR on a full queue" is the overflow flag).
/// </summary>
public class S20_FaultRecording
{
    private static readonly IommuSpec Vtd0 = new("vtd0", DriverNames.Vtd, IommuOptions.None);
    private const ulong Msi = 0x5000_0000;

    private static uint Fsts(VtdHardware hw) => (uint)hw.ReadReg(VtdRegs.Fsts);

    [Fact]
    public void Vtd_records_compresses_overflows_and_resumes_once_cleared()
    {
        var devices = Enumerable.Range(0, 6).Select(i => Pci($"dev{i}", "vtd0", $"g{i}")).ToArray();
        var system = Create([Vtd0], devices);
        foreach (var d in devices) system.Execute(new Probe(d.Name));
        var hw = Assert.IsType<VtdHardware>(system.HardwareOf("vtd0"));
        hw.Memory.Back(Msi);
        hw.WriteReg(VtdRegs.Feaddr, Msi);
        hw.WriteReg(VtdRegs.Fedata, 0x4321);
        Assert.Equal(VtdRegs.FectlIm, (uint)hw.ReadReg(VtdRegs.Fectl));                 // masked at reset
        hw.WriteReg(VtdRegs.Fectl, 0);

        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", 0x1000, 4, write: false).Fault);
        Assert.Equal((1L, 1L), (hw.FaultsRecorded, hw.FaultEvents));
        Assert.Equal(0x4321UL, hw.Memory.Read(Msi) & 0xFFFF_FFFF);
        Assert.Equal(VtdRegs.FstsPpf, Fsts(hw) & (VtdRegs.FstsPpf | VtdRegs.FstsPfo));
        var hi = hw.ReadReg(VtdRegs.Frcd + 8);
        Assert.Equal((VtdRegs.FrcdF | VtdRegs.FrcdRead, (ulong)VtdFaultReason.Read, 0UL), (hi & (VtdRegs.FrcdF | VtdRegs.FrcdRead), (hi >> 32) & 0xFF, hi & 0xFFFF));

        system.DeviceDma("dev0", 0x2000, 4, write: false);                                 // same source: compressed
        Assert.Equal((1L, 1L, 1L), (hw.FaultsRecorded, hw.FaultsCompressed, hw.FaultEvents));
        for (var i = 1; i < 4; i++) system.DeviceDma($"dev{i}", 0x1000, 4, write: false);
        Assert.Equal((4L, 1L), (hw.FaultsRecorded, hw.FaultEvents));                        // PPF pending: no new event
        system.DeviceDma("dev4", 0x1000, 4, write: false);                                 // next record still full
        Assert.Equal((4L, 1L), (hw.FaultsRecorded, hw.FaultsDropped));
        Assert.Equal(VtdRegs.FstsPfo, Fsts(hw) & VtdRegs.FstsPfo);
        system.DeviceDma("dev5", 0x1000, 4, write: false);                                 // dropped while PFO
        Assert.Equal((4L, 2L), (hw.FaultsRecorded, hw.FaultsDropped));

        for (var i = 0; i < VtdHardware.FaultRecords; i++) hw.WriteReg(VtdRegs.Frcd + 16 * i + 8, VtdRegs.FrcdF);
        hw.WriteReg(VtdRegs.Fsts, VtdRegs.FstsPfo);
        Assert.Equal(0u, Fsts(hw) & (VtdRegs.FstsPpf | VtdRegs.FstsPfo));
        hw.Memory.Write(Msi, 0);
        system.DeviceDma("dev5", 0x1000, 4, write: false);
        Assert.Equal((5L, 2L), (hw.FaultsRecorded, hw.FaultEvents));
        Assert.Equal(0x4321UL, hw.Memory.Read(Msi) & 0xFFFF_FFFF);
        Assert.Equal(5UL, hw.ReadReg(VtdRegs.Frcd + 8) & 0xFFFF);                           // the record after the last one used
    }

    [Fact]
    public void Vtd_masked_fault_event_stays_pending_until_unmasked()
    {
        var system = Create([Vtd0], [Pci("dev0", "vtd0")]);
        system.Execute(new Probe("dev0"));
        var hw = Assert.IsType<VtdHardware>(system.HardwareOf("vtd0"));
        system.DeviceDma("dev0", 0x1000, 4, write: false);
        Assert.Equal((1L, 0L), (hw.FaultsRecorded, hw.FaultEvents));
        Assert.Equal(VtdRegs.FectlIm | VtdRegs.FectlIp, (uint)hw.ReadReg(VtdRegs.Fectl));
        hw.WriteReg(VtdRegs.Fectl, 0);
        Assert.Equal((1L, 0u), (hw.FaultEvents, (uint)hw.ReadReg(VtdRegs.Fectl)));
    }

    [Fact]
    public void Vtd_fpd_in_the_context_entry_disables_recording()
    {
        var system = Create([Vtd0], [Pci("dev0", "vtd0"), Pci("dev1", "vtd0", "g1")]);
        system.Run(new Probe("dev0"), new Probe("dev1"));
        var hw = Assert.IsType<VtdHardware>(system.HardwareOf("vtd0"));
        var root = hw.Memory.Read(hw.ReadReg(VtdRegs.Rtaddr));
        var ctx = (root & VtdEntry.AddrMask) + 1 * (ulong)VtdEntry.Bytes;                  // dev1 is devfn 1, never DMA'd: not cached
        hw.Memory.Write(ctx, hw.Memory.Read(ctx) | VtdEntry.Fpd);
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev1", 0x1000, 4, write: false).Fault);
        Assert.Equal((0L, 1L), (hw.FaultsRecorded, hw.FaultsSuppressed));
        Assert.Equal(0u, Fsts(hw) & VtdRegs.FstsPpf);
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", 0x1000, 4, write: false).Fault);
        Assert.Equal(1L, hw.FaultsRecorded);                                                 // without FPD: recorded
    }

    [Fact]
    public void Smmuv3_records_translation_faults_only_with_cd_r_and_never_for_an_abort_ste()
    {
        var (system, domain) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", 0x5000, 4, write: false).Fault);
        Assert.Equal(1L, hw.EventsRecorded);

        var cd = hw.SteWord(0) & Smmuv3Ste.S1CtxPtrMask;                                     // clear CD.R, as a driver would: CFGI_CD + SYNC
        hw.Memory.Write(cd, hw.Memory.Read(cd) & ~Smmuv3Cd.R);
        hw.Issue(Smmuv3Cmd.CfgiCdFor(0));
        hw.Issue(Smmuv3Cmd.Sync(0, 0));
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", 0x5000, 4, write: false).Fault);
        Assert.Equal(1L, hw.EventsRecorded);

        _ = domain;

        // The blocking domain (a claimed group) is an abort STE: the access aborts and nothing is recorded.
        var blocked = Create([Smmu0], [Pci("dev0")]);
        blocked.Run(new Probe("dev0"), new ClaimDmaOwner("dev0", "o1"));
        Assert.Equal(Smmuv3Ste.Abort(), blocked.Smmu().SteWord(0) & ~Smmuv3Ste.S1CtxPtrMask);
        Assert.Equal(DmaFault.Blocked, blocked.DeviceDma("dev0", 0x5000, 4, write: false).Fault);
        Assert.Equal((0L, 0L), (blocked.Smmu().EventsRecorded, blocked.Smmu().EventsDropped));
    }

    [Fact]
    public void Smmuv3_full_event_queue_overflows_and_an_unwritable_one_is_evtq_abt_err()
    {
        var (system, _) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        var slots = 0;
        while (hw.EventsDropped == 0) { system.DeviceDma("dev0", 0x5000, 4, write: false); slots++; }
        Assert.Equal((long)slots - 1, hw.EventsRecorded);
        Assert.Equal((ulong)Smmuv3Regs.QOverflow, hw.ReadReg(Smmuv3Regs.EvtqProd) & Smmuv3Regs.QOverflow);
        Assert.Equal(0u, (uint)(hw.ReadReg(Smmuv3Regs.Gerror) ^ hw.ReadReg(Smmuv3Regs.Gerrorn)) & Smmuv3Regs.GerrorEvtqAbtErr);

        hw.WriteReg(Smmuv3Regs.EvtqCons, hw.ReadReg(Smmuv3Regs.EvtqProd));                  // software consumed everything
        var evtq = hw.ReadReg(Smmuv3Regs.EvtqBase) & Smmuv3Regs.QBaseAddrMask;
        var slot = evtq + (hw.ReadReg(Smmuv3Regs.EvtqProd) & 0x7F) * (ulong)Smmuv3Event.Bytes;
        hw.Memory.Unback(slot);                                                              // the next slot cannot be written
        system.DeviceDma("dev0", 0x5000, 4, write: false);
        Assert.Equal(Smmuv3Regs.GerrorEvtqAbtErr, (uint)(hw.ReadReg(Smmuv3Regs.Gerror) ^ hw.ReadReg(Smmuv3Regs.Gerrorn)) & Smmuv3Regs.GerrorEvtqAbtErr);
    }
}
