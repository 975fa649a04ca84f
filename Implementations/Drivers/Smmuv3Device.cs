using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.Hardware.Smmuv3;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// struct arm_smmu_device: the driver's side of one SMMU. arm_smmu_device_reset() allocates a linear stream table
/// sized from IDR1.SIDSIZE (STEs left invalid until a device is attached), the command and event queues, and
/// programs their registers. Commands are issued under the cmdq lock; a SYNC completes by an MSI write of 0 over
/// its own queue slot, which the driver polls.
/// </summary>
public sealed class Smmuv3Device
{
    private const int CmdqLog2 = 8, EvtqLog2 = 7;

    private readonly Lock _cmdqLock = new();
    private readonly ulong _strtab, _cmdq, _evtq;
    private readonly int _strtabLog2;
    private readonly BugSwitches _bugs;
    private uint _prod;

    public Smmuv3Device(Smmuv3Hardware hw, FrameAllocator allocator, BugSwitches? bugs = null)
    {
        Hardware = hw;
        _bugs = bugs ?? BugSwitches.None;
        _strtabLog2 = (int)(hw.ReadReg(Smmuv3Regs.Idr1) & 0x3F);
        var steBytes = (1UL << _strtabLog2) * Smmuv3Ste.Bytes;
        if (Alloc(allocator, steBytes, out _strtab) != Errno.OK || Alloc(allocator, (1UL << CmdqLog2) * Smmuv3Cmd.Bytes, out _cmdq) != Errno.OK
            || Alloc(allocator, (1UL << EvtqLog2) * Smmuv3Event.Bytes, out _evtq) != Errno.OK)
            throw new InvalidOperationException("no memory for the SMMU's tables at boot");
        hw.WriteReg(Smmuv3Regs.StrtabBase, _strtab);
        hw.WriteReg(Smmuv3Regs.StrtabBaseCfg, (ulong)_strtabLog2);
        hw.WriteReg(Smmuv3Regs.CmdqBase, _cmdq | CmdqLog2);
        hw.WriteReg(Smmuv3Regs.EvtqBase, _evtq | EvtqLog2);
    }

    public Smmuv3Hardware Hardware { get; }

    public ulong EventQueue => _evtq;

    private static Errno Alloc(FrameAllocator allocator, ulong bytes, out ulong phys)
    {
        var order = 0;
        while ((PhysicalMemory.FrameSize << order) < bytes) order++;
        return allocator.Alloc(order, out phys);
    }

    // arm_smmu_get_step_for_sid: the linear table, indexed within its 2^SIDSIZE entries
    private ulong SteAddr(int sid) => _strtab + (ulong)(sid & ((1 << _strtabLog2) - 1)) * Smmuv3Ste.Bytes;

    /// <summary>
    /// arm_smmu_write_ste + arm_smmu_sync_ste_for_sid: the STE's word 0 (the fields used here), CFGI_STE, SYNC. As
    /// arm_smmu_write_entry, an entry that does not change is neither written nor synced (a move between two stage-1
    /// domains keeps the STE and changes only the CD).
    /// </summary>
    public void WriteSte(int sid, ulong ste)
    {
        if (Hardware.Memory.Read(SteAddr(sid)) == ste) return;
        Hardware.Memory.Write(SteAddr(sid), ste);
        IssueCmdlist([Smmuv3Cmd.CfgiSteFor(sid)], sync: true);
    }

    /// <summary>arm_smmu_write_cd_entry: TTB0 first, then word 0 with V; CFGI_CD and SYNC.</summary>
    public void WriteCd(int sid, ulong cdTable, int asid, ulong ttb0, int ias)
    {
        var mem = Hardware.Memory;
        mem.Write(cdTable + 8, ttb0 & Smmuv3Cd.Ttb0Mask);
        mem.Write(cdTable, Smmuv3Cd.Word0(asid, ias, ipsField: 5));
        // Seeded bug cd_change_skips_cfgi: the CD changes in memory but the SMMU's cached copy is not invalidated.
        IssueCmdlist(_bugs.IsOn(BugCatalogue.CdChangeSkipsCfgi) ? [] : [Smmuv3Cmd.CfgiCdFor(sid)], sync: true);
    }

    /// <summary>
    /// arm_smmu_cmdq_issue_cmdlist: copies the commands into the queue, publishes PROD, and with <paramref name="sync"/>
    /// appends a CMD_SYNC and waits for it. A command the SMMU refused is skipped as arm_smmu_cmdq_skip_err does.
    /// </summary>
    public void IssueCmdlist(IReadOnlyList<(ulong W0, ulong W1)> cmds, bool sync)
    {
        lock (_cmdqLock)
        {
            var mem = Hardware.Memory;
            ulong syncSlot = 0;
            for (var i = 0; i < cmds.Count + (sync ? 1 : 0); i++)
            {
                var slot = _cmdq + (_prod & ((1u << CmdqLog2) - 1)) * (ulong)Smmuv3Cmd.Bytes;
                var (w0, w1) = i < cmds.Count ? cmds[i] : Smmuv3Cmd.Sync(slot, 0);
                if (i == cmds.Count) syncSlot = slot;
                mem.Write(slot, w0);
                mem.Write(slot + 8, w1);
                _prod = (_prod + 1) & ((1u << (CmdqLog2 + 1)) - 1);
                // The hardware consumes on every PROD write; publishing per command keeps the queue from filling.
                Hardware.WriteReg(Smmuv3Regs.CmdqProd, _prod);
                SkipErrorIfAny();
            }
            // arm_smmu_cmdq_poll_until_msi: the SYNC's completion wrote 0 over its opcode word.
            if (sync && (uint)mem.Read(syncSlot) != 0) throw new InvalidOperationException("CMD_SYNC did not complete");
        }
    }

    // arm_smmu_cmdq_skip_err: log the error and the command (dev_err: no correct driver ever sees one), replace the
    // faulting command with a CMD_SYNC, then acknowledge GERROR.CMDQ_ERR
    private void SkipErrorIfAny()
    {
        var gerror = (uint)Hardware.ReadReg(Smmuv3Regs.Gerror);
        var gerrorn = (uint)Hardware.ReadReg(Smmuv3Regs.Gerrorn);
        if (((gerror ^ gerrorn) & Smmuv3Regs.GerrorCmdqErr) == 0) return;
        var cons = (uint)Hardware.ReadReg(Smmuv3Regs.CmdqCons);
        var slot = _cmdq + (cons & ((1u << CmdqLog2) - 1)) * (ulong)Smmuv3Cmd.Bytes;
        var error = (Smmuv3CmdqError)((cons >> Smmuv3Regs.ConsErrShift) & 0x7F);
        Hardware.Platform.Errors.Add($"{Hardware.Instance}: CMDQ error (cons 0x{cons:x8}): {error}; skipping command in error state: "
            + $"0x{Hardware.Memory.Read(slot):x16} 0x{Hardware.Memory.Read(slot + 8):x16}");
        var (w0, w1) = Smmuv3Cmd.Sync(0, 0);
        Hardware.Memory.Write(slot, w0);
        Hardware.Memory.Write(slot + 8, w1);
        Hardware.WriteReg(Smmuv3Regs.Gerrorn, gerrorn ^ Smmuv3Regs.GerrorCmdqErr);
    }

    /// <summary>
    /// arm_smmu_tlb_inv_range_asid with range invalidation: TLBI_NH_VA commands of (NUM + 1) × 2^SCALE 4K pages
    /// covering [iova, iova + size), then a SYNC. arm_smmu_tlb_inv_range_cmd: a leaf invalidation carries the TTL of
    /// its granule's level; a non-leaf one leaves TTL 0, and then a first command of one page (NUM = SCALE = 0, which
    /// with TTL 0 is an illegal command) is avoided by invalidating one page more (eb6c97647be2).
    /// </summary>
    public void TlbInvRange(int asid, ulong iova, ulong size, ulong granule, bool leaf)
    {
        var cmds = new List<(ulong, ulong)>();
        // Seeded bug range_inval_first_page: one command for the first page stands for the whole range.
        var numPages = _bugs.IsOn(BugCatalogue.RangeInvalFirstPage) ? 1 : size >> 12;
        var ttl = leaf && granule >= 4096 ? 4 - (System.Numerics.BitOperations.Log2(granule) - 3) / 9 : 0;
        // Seeded bug range_tlbi_ttl_num_scale_zero: the extra page is not added (6833b8f2e199 before its fix).
        if (ttl == 0 && (numPages & 31) == 1 && !_bugs.IsOn(BugCatalogue.RangeTlbiTtlNumScaleZero)) numPages++;
        while (numPages != 0)
        {
            var scale = System.Numerics.BitOperations.TrailingZeroCount(numPages);
            var num = (int)((numPages >> scale) & 31);   // odd, so at least 1
            cmds.Add(Smmuv3Cmd.TlbiVa(asid, iova, num - 1, scale, tg: 1, leaf, ttl));
            var pages = (ulong)num << scale;
            numPages -= pages;
            iova += pages << 12;
        }
        // Seeded bug tlbi_without_sync: the TLBIs are queued but no CMD_SYNC waits for them.
        IssueCmdlist(cmds, sync: !_bugs.IsOn(BugCatalogue.TlbiWithoutSync));
    }

    /// <summary>arm_smmu_tlb_inv_asid: TLBI_NH_ASID + SYNC.</summary>
    public void TlbInvAsid(int asid) => IssueCmdlist([Smmuv3Cmd.TlbiAsid(asid)], sync: true);
}
