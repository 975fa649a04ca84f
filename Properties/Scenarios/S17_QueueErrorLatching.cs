using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Smmuv3;
using IommuConformance.Implementations.Hardware.Vtd;
using IommuConformance.Implementations.PageTable;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.HwRig;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S17 (QEMU smmuv3_cmdq_consume / intel_iommu vtd_process_inv_queue, hardware-and-peers.md §6): software writes
/// [TLBI page A, illegal command, TLBI page B, SYNC] and publishes them at once. CONS must stop at the illegal entry
/// with CERROR_ILL and GERROR.CMDQ_ERR pending; the first TLBI was consumed but, with no SYNC after it, has not
/// completed; the third command must not run, so B's stale IOTLB entry still translates; more PROD writes change
/// nothing; after software replaces the entry (arm_smmu_cmdq_skip_err writes a SYNC) and acknowledges through
/// GERRORN, the rest runs and both entries are gone. VT-d: [page-selective A, a reserved type, page-selective B, wait]
/// stops with FSTS.IQE and IQH at the bad descriptor, the wait's status word is not written, later IQT writes are
/// not processed, and after the fix and clearing IQE the rest completes. The IOTLB entries are made stale by
/// unmapping in the page table behind the IOTLB's back (the hardware never tidies up on its own).
/// </summary>
public class S17_QueueErrorLatching
{
    private const ulong A = 0x100_0000, B = 0x100_1000, Pa = 0x4000_0000;

    private static (IommuSystem System, Implementations.Drivers.PagingDomain Domain) WithStaleEntries(IommuSpec iommu, DeviceSpec dev)
    {
        var (system, domain) = Attached(iommu, dev);
        Assert.Equal(Errno.OK, domain.Map(A, Pa, 0x2000, IommuProt.Read, out _));
        Assert.Equal(Pa, system.DeviceDma(dev.Name, A, 4, write: false).Phys);
        Assert.Equal(Pa + 0x1000, system.DeviceDma(dev.Name, B, 4, write: false).Phys);
        Assert.Equal(0x2000UL, domain.Pgtable.UnmapPages(A, 0x1000, 2, new IotlbGather()));   // behind the IOTLB's back
        return (system, domain);
    }

    /// <summary>Writes the commands at PROD, then publishes them with one PROD write.</summary>
    private static void IssueAll(Smmuv3Hardware hw, params (ulong W0, ulong W1)[] cmds)
    {
        var qbase = hw.ReadReg(Smmuv3Regs.CmdqBase);
        var log2 = (int)(qbase & 0x1F);
        var prod = (uint)hw.ReadReg(Smmuv3Regs.CmdqProd);
        foreach (var (w0, w1) in cmds)
        {
            var slot = (qbase & Smmuv3Regs.QBaseAddrMask) + (prod & ((1u << log2) - 1)) * 16UL;
            hw.Memory.Write(slot, w0);
            hw.Memory.Write(slot + 8, w1);
            prod = (prod + 1) & ((1u << (log2 + 1)) - 1);
        }
        hw.WriteReg(Smmuv3Regs.CmdqProd, prod);
    }

    [Fact]
    public void Smmuv3_cons_stops_at_the_illegal_command_until_gerrorn_acknowledges()
    {
        var (system, domain) = WithStaleEntries(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        var cons = (uint)hw.ReadReg(Smmuv3Regs.CmdqCons) & 0xFF_FFFF;
        var consumed = hw.CommandsConsumed;
        IssueAll(hw, Smmuv3Cmd.TlbiVa(domain.Id, A, 0, 0, tg: 1, leaf: true, ttl: 3), (0xFF, 0), Smmuv3Cmd.TlbiVa(domain.Id, B, 0, 0, tg: 1, leaf: true, ttl: 3), Smmuv3Cmd.Sync(0, 0));

        var consReg = (uint)hw.ReadReg(Smmuv3Regs.CmdqCons);
        Assert.Equal(cons + 1, consReg & 0xFF_FFFF);                                              // at the illegal entry
        Assert.Equal((uint)Smmuv3CmdqError.Ill, (consReg >> Smmuv3Regs.ConsErrShift) & 0x7F);
        Assert.Equal(Smmuv3Regs.GerrorCmdqErr, (uint)(hw.ReadReg(Smmuv3Regs.Gerror) ^ hw.ReadReg(Smmuv3Regs.Gerrorn)) & Smmuv3Regs.GerrorCmdqErr);
        Assert.Equal(consumed + 1, hw.CommandsConsumed);
        Assert.Equal(1, hw.PendingInvalidations);                                                  // TLBI A consumed, not synced
        Assert.Equal(Pa, system.DeviceDma("dev0", A, 4, write: false).Phys);
        Assert.Equal(Pa + 0x1000, system.DeviceDma("dev0", B, 4, write: false).Phys);              // TLBI B never ran

        hw.WriteReg(Smmuv3Regs.CmdqProd, hw.ReadReg(Smmuv3Regs.CmdqProd));                          // a new PROD write: still latched
        Assert.Equal(consumed + 1, hw.CommandsConsumed);

        // arm_smmu_cmdq_skip_err: the bad entry becomes a SYNC, then GERRORN acknowledges; the rest runs.
        var slot = (hw.ReadReg(Smmuv3Regs.CmdqBase) & Smmuv3Regs.QBaseAddrMask) + (consReg & 0xFF) * 16UL;
        var (w0, w1) = Smmuv3Cmd.Sync(0, 0);
        hw.Memory.Write(slot, w0);
        hw.Memory.Write(slot + 8, w1);
        hw.WriteReg(Smmuv3Regs.Gerrorn, hw.ReadReg(Smmuv3Regs.Gerror));
        Assert.Equal(consumed + 4, hw.CommandsConsumed);
        Assert.Equal(hw.ReadReg(Smmuv3Regs.CmdqProd), hw.ReadReg(Smmuv3Regs.CmdqCons));
        Assert.Equal(0, hw.PendingInvalidations);
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", A, 4, write: false).Fault);
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", B, 4, write: false).Fault);
    }

    [Fact]
    public void Vtd_iqh_stops_at_the_bad_descriptor_until_iqe_is_cleared()
    {
        var vtd0 = new IommuSpec("vtd0", DriverNames.Vtd, IommuOptions.None);
        var (system, domain) = WithStaleEntries(vtd0, Pci("dev0", "vtd0"));
        var hw = Assert.IsType<VtdHardware>(system.HardwareOf("vtd0"));
        var qbase = hw.ReadReg(VtdRegs.Iqa) & ~0xFFFUL;
        var head = hw.ReadReg(VtdRegs.Iqh);
        var status = Pa + 0x10_0000;
        hw.Memory.Back(status);
        var tail = hw.ReadReg(VtdRegs.Iqt);
        foreach (var (lo, hi) in new[] { VtdQi.IotlbPage(domain.Id, A, 0), (0xFUL, 0UL), VtdQi.IotlbPage(domain.Id, B, 0), VtdQi.Wait(status, 0xD0E) })
        {
            hw.Memory.Write(qbase + tail, lo);
            hw.Memory.Write(qbase + tail + 8, hi);
            tail = (tail + 16) % 4096;
        }
        hw.WriteReg(VtdRegs.Iqt, tail);

        Assert.Equal(VtdRegs.FstsIqe, (uint)hw.ReadReg(VtdRegs.Fsts) & VtdRegs.FstsIqe);
        Assert.Equal(head + 16, hw.ReadReg(VtdRegs.Iqh));                                         // at the bad descriptor
        Assert.Equal(0UL, hw.Memory.Read(status) & 0xFFFF_FFFF);                                  // the wait never ran
        Assert.Equal(Pa + 0x1000, system.DeviceDma("dev0", B, 4, write: false).Phys);
        hw.WriteReg(VtdRegs.Iqt, tail);                                                           // more tail writes: nothing
        Assert.Equal(head + 16, hw.ReadReg(VtdRegs.Iqh));

        var (flo, fhi) = VtdQi.IotlbGlobal();
        hw.Memory.Write(qbase + head + 16, flo);
        hw.Memory.Write(qbase + head + 24, fhi);
        hw.WriteReg(VtdRegs.Fsts, VtdRegs.FstsIqe);                                               // write 1 to clear: resumes
        Assert.Equal(tail, hw.ReadReg(VtdRegs.Iqh));
        Assert.Equal(0xD0EUL, hw.Memory.Read(status) & 0xFFFF_FFFF);
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", A, 4, write: false).Fault);
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", B, 4, write: false).Fault);
    }
}
