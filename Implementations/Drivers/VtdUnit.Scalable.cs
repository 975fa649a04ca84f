using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.Hardware.Vtd;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// The scalable-mode half of struct intel_iommu (drivers/iommu/intel/pasid.c): per device a PASID directory
/// (intel_pasid_alloc_table: at least one page, 2^15 PASIDs), PASID tables allocated on first use of their directory
/// slot (intel_pasid_get_entry), the scalable context entry (intel_pasid_setup_sm_context, RID_PASID 0), and the
/// PASID-entry setup / teardown with their invalidations.
/// </summary>
public sealed partial class VtdUnit
{
    private readonly Dictionary<int, (ulong Dir, int Pdts, List<ulong> Frames)> _pasidTables = [];

    /// <summary>sm_supported(iommu).</summary>
    public bool Scalable { get; }

    private ulong SmContextAddr(int bdf) => ((bdf & 0xFF) >= 0x80 ? _contextHigh : _context) + (ulong)(bdf & 0x7F) * VtdSm.ContextBytes;

    /// <summary>intel_pasid_alloc_table + intel_pasid_setup_sm_context: the device's directory and its present context entry (once).</summary>
    public Errno EnsureSmContext(int bdf, int maxPasids)
    {
        if (_pasidTables.ContainsKey(bdf)) return Errno.OK;
        // size = max_pasid >> (PASID_PDE_SHIFT - 3) bytes, at least a page; the table covers 2^(order + 15) PASIDs
        var bytes = (ulong)Math.Max(maxPasids, 1) >> (VtdSm.PasidPdeShift - 3);
        var order = 0;
        while ((0x1000UL << order) < bytes) order++;
        if (_allocator.Alloc(order, out var dir) != Errno.OK) return Errno.ENOMEM;
        var pdts = VtdSm.PdtsFor(1u << (order + 15));
        _pasidTables[bdf] = (dir, pdts, [dir]);
        var (lo, hi) = VtdSm.Context(dir, pdts, 0);
        var mem = Hardware.Memory;
        mem.Write(SmContextAddr(bdf) + 8, hi);
        mem.Write(SmContextAddr(bdf), lo);
        // a not-present context entry is cached only in caching mode (context_present_flush)
        if (CachingMode) SubmitSync([VtdQi.ContextDevice(0, bdf)]);
        return Errno.OK;
    }

    /// <summary>Whether the PASID table holding <paramref name="pasid"/>'s entry is not allocated yet (within the directory).</summary>
    public bool PasidTableMissing(int bdf, uint pasid) =>
        _pasidTables.TryGetValue(bdf, out var t) && (pasid >> VtdSm.PasidPdeShift) < (uint)VtdSm.DirEntries((ulong)t.Pdts << VtdSm.PdtsShift)
        && (Hardware.Memory.Read(t.Dir + (pasid >> VtdSm.PasidPdeShift) * (ulong)VtdSm.DirEntryBytes) & VtdEntry.P) == 0;

    /// <summary>intel_pasid_get_entry: the entry's address, the PASID table allocated on first use; null without a directory or memory.</summary>
    private ulong? PasidEntryAddr(int bdf, uint pasid)
    {
        if (!_pasidTables.TryGetValue(bdf, out var t) || (pasid >> VtdSm.PasidPdeShift) >= (uint)VtdSm.DirEntries((ulong)t.Pdts << VtdSm.PdtsShift)) return null;
        var mem = Hardware.Memory;
        var pdeAddr = t.Dir + (pasid >> VtdSm.PasidPdeShift) * (ulong)VtdSm.DirEntryBytes;
        var pde = mem.Read(pdeAddr);
        if ((pde & VtdEntry.P) == 0)
        {
            if (_allocator.Alloc(0, out var table) != Errno.OK) return null;
            t.Frames.Add(table);
            mem.Write(pdeAddr, (table & VtdEntry.AddrMask) | VtdEntry.P);
            pde = table | VtdEntry.P;
        }
        return (pde & VtdEntry.AddrMask) + (pasid & VtdSm.PasidPteMask) * (ulong)VtdSm.PasidEntryBytes;
    }

    /// <summary>The PASID entry present now at (bdf, pasid), or null.</summary>
    public VtdPasidEntry? PresentPasidEntry(int bdf, uint pasid)
    {
        if (!_pasidTables.TryGetValue(bdf, out var t) || (pasid >> VtdSm.PasidPdeShift) >= (uint)VtdSm.DirEntries((ulong)t.Pdts << VtdSm.PdtsShift)) return null;
        var mem = Hardware.Memory;
        var pde = mem.Read(t.Dir + (pasid >> VtdSm.PasidPdeShift) * (ulong)VtdSm.DirEntryBytes);
        if ((pde & VtdEntry.P) == 0) return null;
        var at = (pde & VtdEntry.AddrMask) + (pasid & VtdSm.PasidPteMask) * (ulong)VtdSm.PasidEntryBytes;
        var e = new VtdPasidEntry(mem.Read(at), mem.Read(at + 8), mem.Read(at + 16));
        return e.Present ? e : null;
    }

    /// <summary>
    /// intel_pasid_setup_second_level / _pass_through / _first_level: EBUSY on a present entry; the entry is cleared,
    /// filled with P written last, then pasid_flush_caches (caching mode: PASID-cache and PASID-based IOTLB
    /// invalidation of the new DID; otherwise a write-buffer flush, nothing to emulate).
    /// </summary>
    public Errno SetupPasidEntry(int bdf, uint pasid, VtdPasidEntry entry)
    {
        if (PasidEntryAddr(bdf, pasid) is not { } at) return Errno.ENODEV;
        var mem = Hardware.Memory;
        if ((mem.Read(at) & VtdPasidEntry.P) != 0) return Errno.EBUSY;
        for (var i = 0UL; i < 8; i++) mem.Write(at + 8 * i, 0);
        mem.Write(at + 8, entry.W1);
        mem.Write(at + 16, entry.W2);
        mem.Write(at, entry.W0);
        if (CachingMode) SubmitSync([VtdQi.PasidCache(1, entry.Did, pasid), VtdQi.PasidIotlb(entry.Did, pasid)]);
        return Errno.OK;
    }

    /// <summary>
    /// intel_pasid_replace_second_level / _pass_through / _first_level: -EINVAL unless the entry is present; the new
    /// entry is written over it (the unit reads whole entries, so a DMA meets the old one or the new one), then
    /// intel_pasid_flush_present with the old DID: PASID-cache invalidation of (old DID, PASID) and the PASID-based
    /// IOTLB flush of it (no device TLB is emulated).
    /// </summary>
    public Errno ReplacePasidEntry(int bdf, uint pasid, VtdPasidEntry entry)
    {
        if (PasidEntryAddr(bdf, pasid) is not { } at) return Errno.ENODEV;
        if (PresentPasidEntry(bdf, pasid) is not { } old) return Errno.EINVAL;
        var mem = Hardware.Memory;
        mem.Write(at + 8, entry.W1);
        mem.Write(at + 16, entry.W2);
        for (var i = 3UL; i < 8; i++) mem.Write(at + 8 * i, 0);
        mem.Write(at, entry.W0);
        SubmitSync([VtdQi.PasidCache(1, old.Did, pasid), VtdQi.PasidIotlb(old.Did, pasid)]);
        return Errno.OK;
    }

    /// <summary>Seeded bug 38 pasid_teardown_skips_pc_inv: the teardown of a PASID other than RID_PASID skips the PASID-cache invalidation.</summary>
    public bool TeardownSkipsPcInv { get; set; }

    /// <summary>
    /// intel_pasid_tear_down_entry: nothing for an entry not present; else clear it (FPD kept when asked), then the
    /// PASID-cache invalidation of (old DID, PASID), then the PASID-based IOTLB flush (first level, pass-through) or
    /// the domain-selective IOTLB flush (second level). No device TLB is emulated.
    /// </summary>
    public void TearDownPasidEntry(int bdf, uint pasid, bool faultIgnore)
    {
        if (PresentPasidEntry(bdf, pasid) is not { } old || PasidEntryAddr(bdf, pasid) is not { } at) return;
        var mem = Hardware.Memory;
        for (var i = 1UL; i < 8; i++) mem.Write(at + 8 * i, 0);
        mem.Write(at, faultIgnore ? VtdPasidEntry.Fpd : 0);
        var iotlb = old.Pgtt == VtdPasidEntry.PgttSecondLevel ? VtdQi.IotlbDomain(old.Did) : VtdQi.PasidIotlb(old.Did, pasid);
        SubmitSync(TeardownSkipsPcInv && pasid != 0 ? [iotlb] : [VtdQi.PasidCache(1, old.Did, pasid), iotlb]);
    }

    /// <summary>
    /// intel_pasid_teardown_sm_context + intel_pasid_free_table at release: the context entry cleared, the device's
    /// context cache (and with it its cached PASID entries) and the IOTLB invalidated, then the directory and tables freed.
    /// </summary>
    public void TeardownSmContext(int bdf)
    {
        if (!_pasidTables.Remove(bdf, out var t)) return;
        var mem = Hardware.Memory;
        mem.Write(SmContextAddr(bdf), 0);
        mem.Write(SmContextAddr(bdf) + 8, 0);
        SubmitSync([VtdQi.ContextDevice(0, bdf), VtdQi.IotlbGlobal()]);
        foreach (var frame in t.Frames) _allocator.Free(frame);
    }
}
