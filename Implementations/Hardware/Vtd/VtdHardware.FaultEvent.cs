using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware.Vtd;

/// <summary>
/// Fault processing disable and the fault event (after QEMU hw/i386/intel_iommu.c: vtd_is_qualified_fault,
/// vtd_generate_fault_event, vtd_handle_fectl_write). A qualified fault through a context entry with FPD set is not
/// recorded; every reason this unit raises is qualified except root-not-present (no context entry to read FPD
/// from) and an abort fetching the entry. A fault event (an MSI write of FEDATA to FEADDR) is generated when a
/// record sets PPF or an overflow sets PFO, unless FSTS already held PPF, PFO or IQE for software to service; while
/// FECTL.IM masks it, FECTL.IP is left pending and the interrupt is sent when software unmasks.
/// </summary>
public sealed partial class VtdHardware
{
    private uint _fectl = VtdRegs.FectlIm;   // reset value: masked
    private uint _fedata;
    private ulong _feaddr;

    /// <summary>Fault-event interrupts sent (MSI writes of FEDATA to FEADDR).</summary>
    public long FaultEvents { get; private set; }

    /// <summary>Faults not recorded because the context entry has FPD set.</summary>
    public long FaultsSuppressed { get; private set; }

    private static bool Qualified(byte reason) =>
        reason is not (VtdFaultReason.RootNotPresent or VtdFaultReason.SmRootAccess or VtdFaultReason.SmRootNotPresent);

    private bool FaultReportingDisabled(ulong contextLo, byte reason)
    {
        if ((contextLo & VtdEntry.Fpd) == 0 || !Qualified(reason)) return false;
        FaultsSuppressed++;
        return true;
    }

    // vtd_generate_fault_event
    private void GenerateFaultEvent(uint preFsts)
    {
        if ((preFsts & (VtdRegs.FstsPpf | VtdRegs.FstsPfo | VtdRegs.FstsIqe)) != 0) return;   // already to be serviced
        _fectl |= VtdRegs.FectlIp;
        if ((_fectl & VtdRegs.FectlIm) == 0) SendFaultEvent();
    }

    private void SendFaultEvent()
    {
        if (_feaddr != 0) Memory.Store32(_feaddr, _fedata);
        FaultEvents++;
        _fectl &= ~VtdRegs.FectlIp;
    }

    private bool TryReadFaultEventReg(int offset, out ulong value)
    {
        value = offset switch { VtdRegs.Fectl => _fectl, VtdRegs.Fedata => _fedata, VtdRegs.Feaddr => _feaddr, _ => 0 };
        return offset is VtdRegs.Fectl or VtdRegs.Fedata or VtdRegs.Feaddr;
    }

    // vtd_handle_fectl_write: unmasking with IP pending sends the interrupt
    private bool TryWriteFaultEventReg(int offset, ulong value)
    {
        switch (offset)
        {
            case VtdRegs.Fectl:
                _fectl = ((uint)value & VtdRegs.FectlIm) | (_fectl & VtdRegs.FectlIp);
                if ((_fectl & (VtdRegs.FectlIp | VtdRegs.FectlIm)) == VtdRegs.FectlIp) SendFaultEvent();
                return true;
            case VtdRegs.Fedata: _fedata = (uint)value; return true;
            case VtdRegs.Feaddr: _feaddr = value & ~3UL; return true;
            default: return false;
        }
    }
}
