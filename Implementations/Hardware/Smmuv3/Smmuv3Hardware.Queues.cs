using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware.Smmuv3;

/// <summary>
/// The command and event queues (Q_BASE: address and LOG2SIZE; PROD/CONS: index with a wrap bit above it). Commands
/// are consumed when PROD is written. Invalidations (TLBI, CFGI) are only guaranteed done once a later CMD_SYNC
/// completes, so they are held until then: a TLBI without a SYNC has not happened yet. A malformed command stops
/// the queue with CONS at it and CMDQ_CONS.ERR set, and toggles GERROR.CMDQ_ERR; nothing is consumed until
/// software acknowledges by toggling GERRORN to match.
/// </summary>
public sealed partial class Smmuv3Hardware
{
    private ulong _cmdqBase, _evtqBase;
    private uint _cmdqProd, _cmdqCons, _evtqProd, _evtqCons, _gerror, _gerrorn;
    private readonly List<Action> _pending = [];

    public long CommandsConsumed { get; private set; }
    public long Syncs { get; private set; }
    public long EventsRecorded { get; private set; }
    public long EventsDropped { get; private set; }

    /// <summary>Invalidations consumed but not yet completed by a CMD_SYNC.</summary>
    public int PendingInvalidations
    {
        get { lock (Gate) return _pending.Count; }
    }

    private bool CmdqErrorLatched => ((_gerror ^ _gerrorn) & Smmuv3Regs.GerrorCmdqErr) != 0;

    private static int Log2Size(ulong qbase) => (int)(qbase & 0x1F);

    private static bool QEmpty(uint prod, uint cons, int log2) => (prod & QMask(log2)) == (cons & QMask(log2));

    private static bool QFull(uint prod, uint cons, int log2) =>
        (prod & IdxMask(log2)) == (cons & IdxMask(log2)) && ((prod ^ cons) & (1u << log2)) != 0;

    private static uint IdxMask(int log2) => (1u << log2) - 1;

    private static uint QMask(int log2) => (1u << (log2 + 1)) - 1;   // index and wrap

    private static uint QInc(uint p, int log2) => (p & ~QMask(log2)) | ((p + 1) & QMask(log2));

    // smmuv3_cmdq_consume
    private void ConsumeCommands()
    {
        if (_cmdqBase == 0 || CmdqErrorLatched) return;
        var log2 = Log2Size(_cmdqBase);
        while (!QEmpty(_cmdqProd, _cmdqCons, log2))
        {
            var addr = (_cmdqBase & Smmuv3Regs.QBaseAddrMask) + (_cmdqCons & IdxMask(log2)) * (ulong)Smmuv3Cmd.Bytes;
            var error = Memory.Load64(addr, out var w0) == MemAccess.Ok && Memory.Load64(addr + 8, out var w1) == MemAccess.Ok
                ? Execute(w0, w1) : Smmuv3CmdqError.Abt;
            // Seeded bug malformed_cmd_not_latched: a refused command is passed over as if it had run.
            if (error == Smmuv3CmdqError.Ill && _bugs.IsOn(Bugs.BugCatalogue.MalformedCmdNotLatched)) error = Smmuv3CmdqError.None;
            if (error != Smmuv3CmdqError.None)
            {
                _cmdqCons = (_cmdqCons & QMask(log2)) | ((uint)error << Smmuv3Regs.ConsErrShift);
                _gerror ^= Smmuv3Regs.GerrorCmdqErr;
                return;
            }
            CommandsConsumed++;
            _cmdqCons = QInc(_cmdqCons & QMask(log2), log2);   // CONS advances once the command is done; ERR clears
        }
    }

    private Smmuv3CmdqError Execute(ulong w0, ulong w1)
    {
        switch ((byte)w0)
        {
            case Smmuv3Cmd.CfgiSte:
            case Smmuv3Cmd.CfgiCd:
                var sid = (int)(w0 >> Smmuv3Cmd.SidShift);
                _pending.Add(() => InvalidateConfig(BusSid(sid)));
                return Smmuv3CmdqError.None;
            case Smmuv3Cmd.CfgiAll:
                _pending.Add(() => InvalidateConfig(null));
                return Smmuv3CmdqError.None;
            case Smmuv3Cmd.TlbiNhAsid:
                var asid = (int)(w0 >> Smmuv3Cmd.AsidShift);
                _pending.Add(() => { Iotlb.InvalidateTag(asid); InvalidateWalks(asid); });
                return Smmuv3CmdqError.None;
            case Smmuv3Cmd.TlbiNsnhAll:
                _pending.Add(() => { Iotlb.InvalidateAll(); InvalidateWalks(null); });
                return Smmuv3CmdqError.None;
            case Smmuv3Cmd.TlbiNhVa:
                return QueueTlbiVa(w0, w1);
            case Smmuv3Cmd.CmdSync:
                Syncs++;
                foreach (var inv in _pending) inv();
                _pending.Clear();
                var msi = w1 & Smmuv3Cmd.MsiAddrMask;
                if (msi != 0 && Memory.Store32(msi, (uint)(w0 >> 32)) != MemAccess.Ok) return Smmuv3CmdqError.Abt;
                return Smmuv3CmdqError.None;
            default:
                return Smmuv3CmdqError.Ill;
        }
    }

    // TLBI_NH_VA: TG 0 is the one entry holding ADDR; TG 1..3 the range (NUM + 1) << SCALE pages of that granule.
    // Leaf = 1: last-level entries only; Leaf = 0: the walk cache's entries of the range too. TTL is a hint of the
    // leaves' level that this SMMU may ignore (it invalidates every level: over-invalidating is always allowed), but a
    // range with TTL, NUM and SCALE all 0 is ILLEGAL (the case arm_smmu_tlb_inv_range_cmd steps around).
    private Smmuv3CmdqError QueueTlbiVa(ulong w0, ulong w1)
    {
        var asid = (int)(w0 >> Smmuv3Cmd.AsidShift);
        var addr = w1 & Smmuv3Cmd.AddrMask;
        var tg = (int)((w1 >> Smmuv3Cmd.TgShift) & 3);
        var ttl = (int)((w1 >> Smmuv3Cmd.TtlShift) & 3);
        var num = (int)((w0 >> Smmuv3Cmd.NumShift) & 31);
        var scale = (int)((w0 >> Smmuv3Cmd.ScaleShift) & 31);
        if (tg == 0 && (num | scale | ttl) != 0) return Smmuv3CmdqError.Ill;   // a range or level without a granule
        if (tg != 0 && (num | scale | ttl) == 0) return Smmuv3CmdqError.Ill;
        var size = tg == 0 ? 1UL : ((ulong)(num + 1) << scale) << (12 + 2 * (tg - 1));
        var leaf = (w1 & Smmuv3Cmd.Leaf) != 0;
        _pending.Add(() =>
        {
            Iotlb.InvalidateRange(asid, addr, size);
            if (!leaf) InvalidateWalks(asid, addr, size);
        });
        return Smmuv3CmdqError.None;
    }

    // smmuv3_record_event: dropped (with PROD.OVFLG toggled) when the queue is full or absent
    private void RecordEvent(byte id, int sid, ulong iova, IommuPerm access, ulong addr2)
    {
        var log2 = Log2Size(_evtqBase);
        if (_evtqBase == 0 || QFull(_evtqProd, _evtqCons, log2))
        {
            EventsDropped++;
            _evtqProd ^= Smmuv3Regs.QOverflow;
            return;
        }
        var at = (_evtqBase & Smmuv3Regs.QBaseAddrMask) + (_evtqProd & IdxMask(log2)) * (ulong)Smmuv3Event.Bytes;
        if (Memory.Store64(at, id | ((ulong)(uint)sid << 32)) != MemAccess.Ok)
        {
            EventsDropped++;
            _gerror ^= Smmuv3Regs.GerrorEvtqAbtErr;
            return;
        }
        Memory.Store64(at + 8, access == IommuPerm.Read ? Smmuv3Event.RnW : 0);
        Memory.Store64(at + 16, iova);
        Memory.Store64(at + 24, addr2);
        EventsRecorded++;
        _evtqProd = (_evtqProd & Smmuv3Regs.QOverflow) | QInc(_evtqProd & QMask(log2), log2);
    }
}
