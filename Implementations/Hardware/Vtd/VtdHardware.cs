using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Hardware.Vtd;

/// <summary>
/// An emulated VT-d remapping unit in legacy mode (after QEMU hw/i386/intel_iommu.c): root table → context table →
/// second-stage table, all in memory; a context cache per requester and an IOTLB tagged by domain id (1024
/// entries, reset when full), both invalidated only by queued-invalidation descriptors, which complete at the next
/// wait descriptor; fault recording registers with compression and overflow; the caching-mode knob (CM = 1:
/// not-present translations are cached too, so even a map needs an invalidation). A requester id is a BDF. A large
/// leaf is cached splintered, as the 4K page of it the DMA reached (an IOTLB may hold a superpage translation as smaller
/// entries; QEMU's intel_iommu keeps one entry per leaf, which hides an invalidation that misses part of a removed
/// leaf): so a page-selective invalidation must cover every page of what an unmap removed.
/// </summary>
public sealed partial class VtdHardware : IommuHardware
{
    public const int IotlbEntries = 1024;
    public const int FaultRecords = 4;

    private readonly Dictionary<int, (ulong Lo, ulong Hi)> _contextCache = [];
    private readonly Dictionary<(ulong Root, int Aw), VtdssPgtable> _walkers = [];
    private ulong _rtaddr;

    public VtdHardware(string instance, HardwarePlatform platform, bool cachingMode = false, bool scalableMode = false) : base(instance, platform)
    {
        CachingMode = cachingMode;
        ScalableSupported = scalableMode;
        Iotlb = new Iotlb(IotlbEntries, [1UL << 12, 1UL << 21, 1UL << 30], IotlbFullPolicy.FlushAllWhenFull);
    }

    public bool CachingMode { get; }

    public Iotlb Iotlb { get; }

    protected override string EntryName => "context entry";

    public ulong ReadReg(int offset)
    {
        lock (Gate)
        {
            if (offset >= VtdRegs.Frcd && offset < VtdRegs.Frcd + FaultRecords * 16)
            {
                var (lo, hi) = _frcd[(offset - VtdRegs.Frcd) / 16];
                return (offset & 8) == 0 ? lo : hi;
            }
            if (TryReadFaultEventReg(offset, out var fe)) return fe;
            return offset switch
            {
                VtdRegs.Cap => (CachingMode ? VtdRegs.CapCm : 0) | ((ulong)(FaultRecords - 1) << 40),
                VtdRegs.Ecap => ScalableSupported ? VtdSm.EcapSmts : 0,
                VtdRegs.Rtaddr => _rtaddr,
                VtdRegs.Fsts => _fsts,
                VtdRegs.Iqa => _iqa,
                VtdRegs.Iqh => _iqh,
                VtdRegs.Iqt => _iqt,
                _ => 0,
            };
        }
    }

    /// <summary>A register write. IQT makes the unit process descriptors up to it (unless IQE is set); FSTS and a
    /// fault record's F bit are write-1-to-clear.</summary>
    public void WriteReg(int offset, ulong value)
    {
        lock (Gate)
        {
            if (offset >= VtdRegs.Frcd + 8 && offset < VtdRegs.Frcd + FaultRecords * 16 && (offset & 8) != 0)
            {
                var i = (offset - VtdRegs.Frcd) / 16;
                if ((value & VtdRegs.FrcdF) != 0) _frcd[i] = (_frcd[i].Lo, _frcd[i].Hi & ~VtdRegs.FrcdF);
                if (_frcd.All(f => (f.Hi & VtdRegs.FrcdF) == 0)) _fsts &= ~VtdRegs.FstsPpf;
                return;
            }
            if (TryWriteFaultEventReg(offset, value)) return;
            switch (offset)
            {
                case VtdRegs.Rtaddr: _rtaddr = value; break;   // SRTP is implied: the pointer is latched at once
                case VtdRegs.Iqa: _iqa = value; _iqh = 0; break;
                case VtdRegs.Iqt: _iqt = value; ProcessQueue(); break;
                case VtdRegs.Fsts:
                    _fsts &= ~((uint)value & (VtdRegs.FstsPfo | VtdRegs.FstsIqe));
                    if (((uint)value & VtdRegs.FstsIqe) != 0) ProcessQueue();
                    break;
            }
        }
    }

    /// <summary>Reads the root and context entries of a BDF; Ok is false on an abort (the address in Fault).</summary>
    private (bool RootPresent, ulong Lo, ulong Hi, ulong AbortAt) FetchContext(int rid)
    {
        var rootAddr = (_rtaddr & VtdEntry.AddrMask) + (ulong)(rid >> 8) * VtdEntry.Bytes;
        if (_rtaddr == 0) return (false, 0, 0, 0);
        if (Memory.Load64(rootAddr, out var root) != MemAccess.Ok) return (false, 0, 0, rootAddr);
        if ((root & VtdEntry.P) == 0) return (false, 0, 0, 0);
        var ctxAddr = (root & VtdEntry.AddrMask) + (ulong)(rid & 0xFF) * VtdEntry.Bytes;
        if (Memory.Load64(ctxAddr, out var lo) != MemAccess.Ok || Memory.Load64(ctxAddr + 8, out var hi) != MemAccess.Ok)
            return (true, 0, 0, ctxAddr);
        return (true, lo, hi, 0);
    }

    // Legacy mode has no "abort" entry: a blocked device's context entry is cleared (device_block_translation).
    protected override HwContext Decode(int rid)
    {
        if (Scalable) return DecodeSm(rid);
        var (rootPresent, lo, hi, _) = FetchContext(rid);
        if (!rootPresent) return HwContext.None;
        if ((lo & VtdEntry.P) == 0) return new HwContext(HwContextKind.Abort, null);
        return ((lo >> VtdEntry.TtShift) & 3) == VtdEntry.TtPassThrough
            ? new HwContext(HwContextKind.Bypass, null)
            : new HwContext(HwContextKind.Translate, (int)((hi >> VtdEntry.DidShift) & 0xFFFF));
    }

    private VtdssPgtable? WalkerOf(ulong lo, ulong hi) => WalkerOf(lo & VtdEntry.AddrMask, (int)(hi & 7));

    private VtdssPgtable? WalkerOf(ulong root, int aw)
    {
        var key = (root, aw);
        if (_walkers.TryGetValue(key, out var w)) return w;
        w = VtdssPgtable.ForWalk(Platform.Allocator, key.Item1, key.Item2);
        if (w is not null) _walkers[key] = w;
        return w;
    }

    private DmaTranslation Resolve(int rid, ulong lo, ulong hi, bool rootPresent, ulong abortAt, ulong iova, IommuPerm access,
        bool useIotlb, bool record)
    {
        if (abortAt != 0) return Fault(rid, iova, access, VtdFaultReason.PagingEntryAccess, DmaFault.ExternalAbort, record);
        if (!rootPresent) return Fault(rid, iova, access, VtdFaultReason.RootNotPresent, DmaFault.ContextEntry, record);
        if ((lo & VtdEntry.P) == 0) return Fault(rid, iova, access, VtdFaultReason.ContextNotPresent, DmaFault.Blocked, record, lo);
        if (((lo >> VtdEntry.TtShift) & 3) == VtdEntry.TtPassThrough) return DmaTranslation.Ok(iova, ulong.MaxValue);
        var did = (int)((hi >> VtdEntry.DidShift) & 0xFFFF);
        var walker = WalkerOf(lo, hi);
        if (walker is null) return Fault(rid, iova, access, VtdFaultReason.ContextNotPresent, DmaFault.ContextEntry, record, lo);
        return WalkSecondLevel(rid, did, walker, iova, access, useIotlb, record, lo);
    }

    // The second-level walk through the DID-tagged IOTLB (legacy mode, and a scalable-mode PGTT 2 entry); fpdWord
    // is the entry whose FPD bit decides whether a fault is recorded.
    private DmaTranslation WalkSecondLevel(int rid, int did, VtdssPgtable walker, ulong iova, IommuPerm access, bool useIotlb, bool record, ulong lo)
    {
        if (useIotlb && Iotlb.Lookup(did, iova) is { } e) return FromEntry(rid, e, iova, access, record, lo);
        if (useIotlb) { Walks++; Iotlb.RecordWalk(); }
        if (iova >> walker.Ias != 0) return Fault(rid, iova, access, VtdFaultReason.AddressBeyondMgaw, DmaFault.AddressSize, record, lo);
        var w = walker.Walk(iova);
        if (!w.IsOk)
        {
            // Caching mode: a not-present translation may be cached too (a 4K entry granting nothing).
            if (useIotlb && CachingMode && w.Status == WalkStatus.TranslationFault) Iotlb.Insert(new IotlbEntry(did, iova & ~0xFFFUL, 0x1000, 0, IommuPerm.None));
            var reason = w.Status == WalkStatus.ExternalAbort ? VtdFaultReason.PagingEntryAccess : access == IommuPerm.Write ? VtdFaultReason.Write : VtdFaultReason.Read;
            return Fault(rid, iova, access, reason, FaultOf(w.Status), record, lo);
        }
        var entry = w.ToIotlbEntry(did);
        if (useIotlb) Iotlb.Insert(Splinter(entry, iova));
        return FromEntry(rid, entry, iova, access, record, lo);
    }

    // The 4K piece of a walked leaf that holds iova, as this IOTLB caches it.
    private static IotlbEntry Splinter(IotlbEntry leaf, ulong iova)
    {
        var page = iova & ~0xFFFUL;
        return leaf.Size == 0x1000 ? leaf : leaf with { Iova = page, Size = 0x1000, Phys = leaf.Translate(page) };
    }

    private DmaTranslation FromEntry(int rid, IotlbEntry e, ulong iova, IommuPerm access, bool record, ulong contextLo)
    {
        if ((e.Perm & access) == access) return DmaTranslation.Ok(e.Translate(iova), e.Iova + e.Size - 1);
        var fault = e.Perm == IommuPerm.None ? DmaFault.Translation : DmaFault.Permission;
        return Fault(rid, iova, access, access == IommuPerm.Write ? VtdFaultReason.Write : VtdFaultReason.Read, fault, record, contextLo);
    }

    private DmaTranslation Fault(int rid, ulong iova, IommuPerm access, byte reason, DmaFault fault, bool record, ulong contextLo = 0)
    {
        if (record && !FaultReportingDisabled(contextLo, reason)) RecordFault(rid, iova, access, reason);
        return DmaTranslation.Faulted(fault);
    }

    protected override DmaTranslation TranslateOne(int rid, ulong iova, IommuPerm access)
    {
        if (Scalable) return TranslateSm(rid, null, iova, access);
        if (!_contextCache.TryGetValue(rid, out var ctx))
        {
            var (rootPresent, lo, hi, abortAt) = FetchContext(rid);
            if (!rootPresent || abortAt != 0 || (lo & VtdEntry.P) == 0)
                return Resolve(rid, lo, hi, rootPresent, abortAt, iova, access, useIotlb: true, record: true);
            _contextCache[rid] = ctx = (lo, hi);
        }
        return Resolve(rid, ctx.Lo, ctx.Hi, true, 0, iova, access, useIotlb: true, record: true);
    }

    protected override void CollectIotlb(List<IotlbEntry> entries) => entries.AddRange(Iotlb.Entries);

    protected override void CollectTables(int rid, bool withPages, List<HardwareTable> found)
    {
        if (Scalable)
        {
            CollectTablesSm(rid, withPages, found);
            return;
        }
        var (rootPresent, lo, hi, abortAt) = FetchContext(rid);
        if (rootPresent && abortAt == 0) Add(lo, hi, TranslationSource.FreshWalk);
        if (_contextCache.TryGetValue(rid, out var ctx) && (!rootPresent || abortAt != 0 || ctx != (lo, hi)))
            Add(ctx.Lo, ctx.Hi, TranslationSource.CachedConfig);

        void Add(ulong l, ulong h, TranslationSource source)
        {
            if ((l & VtdEntry.P) == 0 || ((l >> VtdEntry.TtShift) & 3) == VtdEntry.TtPassThrough || WalkerOf(l, h) is not { } w) return;
            found.Add(new(source, (int)((h >> VtdEntry.DidShift) & 0xFFFF), w.RootPhys, withPages ? w.ReachableTablePages() : []));
        }
    }

    protected override void Peek(int rid, ulong iova, IommuPerm access, List<PossibleTranslation> found)
    {
        if (Scalable)
        {
            PeekSm(rid, null, iova, access, found);
            return;
        }
        var (rootPresent, lo, hi, abortAt) = FetchContext(rid);
        found.Add(new(TranslationSource.FreshWalk, Resolve(rid, lo, hi, rootPresent, abortAt, iova, access, useIotlb: false, record: false)));
        if (_contextCache.TryGetValue(rid, out var ctx) && ctx != (lo, hi))
            found.Add(new(TranslationSource.CachedConfig, Resolve(rid, ctx.Lo, ctx.Hi, true, 0, iova, access, useIotlb: false, record: false)));
        foreach (var c in new[] { (lo, hi), ctx })
            if ((c.Item1 & VtdEntry.P) != 0 && Iotlb.Peek((int)((c.Item2 >> VtdEntry.DidShift) & 0xFFFF), iova) is { } e)
                found.Add(new(TranslationSource.Iotlb, (e.Perm & access) == access && e.Perm != IommuPerm.None
                    ? DmaTranslation.Ok(e.Translate(iova), e.Iova + e.Size - 1)
                    : DmaTranslation.Faulted(e.Perm == IommuPerm.None ? DmaFault.Translation : DmaFault.Permission)));
    }
}
