using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware.Vtd;

/// <summary>
/// Queued invalidation and fault recording. Descriptors are processed from IQH to IQT when IQT is written;
/// context-cache and IOTLB invalidations are held until a wait descriptor, which applies them and writes its
/// status word. An unknown type, a reserved granularity or an AM past MAMV sets FSTS.IQE and stops the queue at
/// that descriptor until software clears IQE. Faults (vtd_report_fault): dropped while PFO is set; compressed when
/// a pending record already holds the same source; PFO when the next record is still full; else recorded (F, PPF).
/// </summary>
public sealed partial class VtdHardware
{
    private ulong _iqa, _iqh, _iqt;
    private uint _fsts;
    private int _nextFrcd;
    private readonly (ulong Lo, ulong Hi)[] _frcd = new (ulong, ulong)[FaultRecords];
    private readonly List<Action> _pending = [];

    public long DescriptorsProcessed { get; private set; }
    public long Waits { get; private set; }
    public long FaultsRecorded { get; private set; }
    public long FaultsCompressed { get; private set; }
    public long FaultsDropped { get; private set; }

    public int PendingInvalidations
    {
        get { lock (Gate) return _pending.Count; }
    }

    private ulong QueueBytes => (1UL << (int)(_iqa & 7)) * 256 * VtdQi.Bytes;

    /// <summary>IQA.DW: 256-bit descriptors (scalable mode's PASID-based descriptors need them).</summary>
    private bool WideDescriptors => ScalableSupported && (_iqa & VtdQi.IqaDw) != 0;

    private ulong DescriptorBytes => WideDescriptors ? (ulong)VtdQi.WideBytes : VtdQi.Bytes;

    // vtd_fetch_inv_desc / vtd_process_inv_desc
    private void ProcessQueue()
    {
        if (_iqa == 0 || (_fsts & VtdRegs.FstsIqe) != 0) return;
        while (_iqh != _iqt)
        {
            if (_iqt >= QueueBytes || (_iqt & (DescriptorBytes - 1)) != 0) { _fsts |= VtdRegs.FstsIqe; return; }
            var at = (_iqa & ~0xFFFUL) + _iqh;
            if (Memory.Load64(at, out var lo) != MemAccess.Ok || Memory.Load64(at + 8, out var hi) != MemAccess.Ok || !Execute(lo, hi))
            {
                _fsts |= VtdRegs.FstsIqe;
                return;
            }
            DescriptorsProcessed++;
            _iqh = (_iqh + DescriptorBytes) % QueueBytes;
        }
    }

    private bool Execute(ulong lo, ulong hi)
    {
        var gran = (int)((lo >> VtdQi.GranShift) & 3);
        var did = (int)((lo >> VtdQi.DidShift) & 0xFFFF);
        switch ((byte)(lo & 0xF))
        {
            case VtdQi.CcType when gran is 1 or 2 or 3:
                var sid = (int)((lo >> VtdQi.SidShift) & 0xFFFF);
                // Domain-selective is done as global (QEMU does too): over-invalidation is allowed.
                _pending.Add(gran == 3 ? () => { _contextCache.Remove(sid); DropPasidCacheOf(sid); } : () => { _contextCache.Clear(); DropPasidCacheOf(null); });
                return true;
            case VtdQi.PcType when WideDescriptors && gran is 0 or 1 or 3:
                var pcPasid = (uint)((lo >> VtdQi.PasidShift) & VtdSm.RidPasidMask);
                _pending.Add(() => InvalidatePasidCache(gran, did, pcPasid));
                return true;
            case VtdQi.PiotlbType when WideDescriptors && gran is 2 or 3:
                var pPasid = (uint)((lo >> VtdQi.PasidShift) & VtdSm.RidPasidMask);
                if (gran == 2)
                {
                    _pending.Add(() => InvalidatePasidIotlb(did, pPasid, null, 0));
                    return true;
                }
                var pam = (int)(hi & 0x3F);
                if (pam > VtdQi.MaxAm) return false;
                var psize = 0x1000UL << pam;
                var paddr = hi & ~0xFFFUL & ~(psize - 1);
                _pending.Add(() => InvalidatePasidIotlb(did, pPasid, paddr, psize));
                return true;
            case VtdQi.IotlbType when gran is 1 or 2:
                _pending.Add(gran == 1 ? () => { Iotlb.InvalidateAll(); PasidIotlb.InvalidateAll(); } : () => Iotlb.InvalidateTag(did));
                return true;
            case VtdQi.IotlbType when gran == 3:
                var am = (int)(hi & 0x3F);
                if (am > VtdQi.MaxAm) return false;
                var size = 0x1000UL << am;
                var addr = hi & ~0xFFFUL & ~(size - 1);
                _pending.Add(() => Iotlb.InvalidateRange(did, addr, size));
                return true;
            case VtdQi.WaitType:
                Waits++;
                foreach (var inv in _pending) inv();
                _pending.Clear();
                if ((lo & VtdQi.WaitSw) != 0 && Memory.Store32(hi & ~3UL, (uint)(lo >> 32)) != MemAccess.Ok) return false;
                return true;
            default:
                return false;
        }
    }

    // vtd_report_frcd_fault with compression and overflow
    private void RecordFault(int rid, ulong iova, IommuPerm access, byte reason)
    {
        var preFsts = _fsts;
        if ((_fsts & VtdRegs.FstsPfo) != 0) { FaultsDropped++; return; }
        foreach (var (_, hi) in _frcd)
            if ((hi & VtdRegs.FrcdF) != 0 && (int)(hi & 0xFFFF) == rid) { FaultsCompressed++; return; }
        if ((_frcd[_nextFrcd].Hi & VtdRegs.FrcdF) != 0)
        {
            _fsts |= VtdRegs.FstsPfo;
            FaultsDropped++;
            GenerateFaultEvent(preFsts);
            return;
        }
        _frcd[_nextFrcd] = (iova & ~0xFFFUL, VtdRegs.FrcdF | (access == IommuPerm.Read ? VtdRegs.FrcdRead : 0) | ((ulong)reason << 32) | (uint)(rid & 0xFFFF));
        _nextFrcd = (_nextFrcd + 1) % FaultRecords;
        _fsts |= VtdRegs.FstsPpf;
        FaultsRecorded++;
        GenerateFaultEvent(preFsts);
    }
}
