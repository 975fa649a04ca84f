using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware.Vtd;

/// <summary>
/// Scalable mode (VT-d 4.x §3.4.3, §9.4–9.6; ECAP.SMTS, selected by RTADDR.TTM = 01). A request id's root entry gives
/// the context table of its devfn half (LCTP below 0x80, UCTP from it), the 256-bit context entry the PASID directory
/// (2^(PDTS+7) entries), the directory entry a PASID table of 64 entries, and the PASID entry the translation: PGTT 1
/// first level (an x86-64 table, <see cref="VtdFirstLevelWalk"/>), 2 second level (the legacy walk, DID-tagged
/// IOTLB), 4 pass-through. A request without PASID uses the context entry's RID_PASID. Context entries are cached
/// per request id as in legacy mode; PASID entries per (request id, PASID), tagged by their DID, until a pc_inv_dsc
/// covering them or a context-cache invalidation of the device; first-level translations in an IOTLB tagged by
/// (DID, PASID) until a p_iotlb_inv_dsc or a global IOTLB invalidation (a domain-selective iotlb_inv_dsc reaches the
/// DID-tagged second-level entries only: the narrower reading, so a driver that relies on it for first level shows).
/// A not-present or FPD-cleared PASID entry blocks; FPD in the context entry or the PASID entry suppresses recording.
/// </summary>
public sealed partial class VtdHardware
{
    /// <summary>ECAP.SMTS: the unit can run in scalable mode (the topology option <c>scalable</c>).</summary>
    public bool ScalableSupported { get; }

    /// <summary>The unit translates in scalable mode now: supported and RTADDR.TTM = 01.</summary>
    public bool Scalable => ScalableSupported && (_rtaddr & VtdSm.RtaddrTtmMask) == VtdSm.RtaddrTtmScalable;

    /// <summary>What a (request id, PASID) resolved to: a PASID entry, or a fault with its reason and the word holding FPD.</summary>
    private readonly Dictionary<(int Rid, uint Pasid), SmConfig> _pasidCache = [];
    private readonly Dictionary<(int Did, uint Pasid), int> _pasidTags = [];

    /// <summary>The first-level IOTLB; its tags stand for (DID, PASID) pairs (<see cref="PasidTag"/>).</summary>
    public Iotlb PasidIotlb { get; } = new(IotlbEntries, [1UL << 12, 1UL << 21, 1UL << 30], IotlbFullPolicy.FlushAllWhenFull);

    private int PasidTag(int did, uint pasid)
    {
        if (!_pasidTags.TryGetValue((did, pasid), out var tag)) _pasidTags[(did, pasid)] = tag = _pasidTags.Count;
        return tag;
    }

    private int? PeekPasidTag(int did, uint pasid) => _pasidTags.TryGetValue((did, pasid), out var tag) ? tag : null;

    private readonly record struct SmConfig(byte Reason, DmaFault Fault, ulong FpdWord, VtdPasidEntry Entry)
    {
        public bool Failed => Reason != 0;
        public static SmConfig Fail(byte reason, DmaFault fault, ulong fpdWord = 0) => new(reason, fault, fpdWord, default);
    }

    /// <summary>The scalable-mode context entry of a BDF from memory; a fault reason (and class) when it cannot be used.</summary>
    private (byte Reason, DmaFault Fault, ulong Lo, ulong Hi) FetchSmContext(int rid)
    {
        if ((_rtaddr & VtdEntry.AddrMask) == 0) return (VtdFaultReason.SmRootNotPresent, DmaFault.ContextEntry, 0, 0);
        var devfn = rid & 0xFF;
        var rootAddr = (_rtaddr & VtdEntry.AddrMask) + (ulong)(rid >> 8) * VtdSm.RootBytes + (devfn >= 0x80 ? 8UL : 0);
        if (Memory.Load64(rootAddr, out var root) != MemAccess.Ok) return (VtdFaultReason.SmRootAccess, DmaFault.ExternalAbort, 0, 0);
        if ((root & VtdEntry.P) == 0) return (VtdFaultReason.SmRootNotPresent, DmaFault.ContextEntry, 0, 0);
        var ctxAddr = (root & VtdEntry.AddrMask) + (ulong)(devfn & 0x7F) * VtdSm.ContextBytes;
        if (Memory.Load64(ctxAddr, out var lo) != MemAccess.Ok || Memory.Load64(ctxAddr + 8, out var hi) != MemAccess.Ok)
            return (VtdFaultReason.SmContextAccess, DmaFault.ExternalAbort, 0, 0);
        if ((lo & VtdEntry.P) == 0) return (VtdFaultReason.SmContextNotPresent, DmaFault.Blocked, lo, hi);
        return (0, default, lo, hi);
    }

    private static uint RidPasid(ulong hi) => (uint)(hi & VtdSm.RidPasidMask);

    /// <summary>The PASID entry at <paramref name="pasid"/> under a present context entry, read from memory now.</summary>
    private SmConfig FetchPasidEntry(ulong lo, uint pasid)
    {
        if ((pasid >> VtdSm.PasidPdeShift) >= (uint)VtdSm.DirEntries(lo)) return SmConfig.Fail(VtdFaultReason.SmPasidTooLarge, DmaFault.ContextEntry, lo);
        var dirAddr = (lo & VtdEntry.AddrMask) + (pasid >> VtdSm.PasidPdeShift) * (ulong)VtdSm.DirEntryBytes;
        if (Memory.Load64(dirAddr, out var pde) != MemAccess.Ok) return SmConfig.Fail(VtdFaultReason.SmPasidDirAccess, DmaFault.ExternalAbort, lo);
        if ((pde & VtdEntry.P) == 0) return SmConfig.Fail(VtdFaultReason.SmPasidDirNotPresent, DmaFault.Blocked, lo | (pde & VtdEntry.Fpd));
        var pteAddr = (pde & VtdEntry.AddrMask) + (pasid & VtdSm.PasidPteMask) * (ulong)VtdSm.PasidEntryBytes;
        if (Memory.Load64(pteAddr, out var w0) != MemAccess.Ok || Memory.Load64(pteAddr + 8, out var w1) != MemAccess.Ok
            || Memory.Load64(pteAddr + 16, out var w2) != MemAccess.Ok)
            return SmConfig.Fail(VtdFaultReason.SmPasidEntryAccess, DmaFault.ExternalAbort, lo);
        var entry = new VtdPasidEntry(w0, w1, w2);
        if (!entry.Present) return SmConfig.Fail(VtdFaultReason.SmPasidEntryNotPresent, DmaFault.Blocked, lo | (w0 & VtdPasidEntry.Fpd));
        if (entry.Pgtt is not (VtdPasidEntry.PgttFirstLevel or VtdPasidEntry.PgttSecondLevel or VtdPasidEntry.PgttPassThrough))
            return SmConfig.Fail(VtdFaultReason.SmPasidEntryInvalid, DmaFault.ContextEntry, lo | (w0 & VtdPasidEntry.Fpd));
        return new SmConfig(0, default, lo | (w0 & VtdPasidEntry.Fpd), entry);
    }

    /// <summary>The context entry a DMA uses (the context cache, else memory, filling the cache), or its fault.</summary>
    private (byte Reason, DmaFault Fault, ulong Lo, ulong Hi) SmContextFor(int rid)
    {
        if (_contextCache.TryGetValue(rid, out var ctx)) return (0, default, ctx.Lo, ctx.Hi);
        var fresh = FetchSmContext(rid);
        if (fresh.Reason == 0) _contextCache[rid] = (fresh.Lo, fresh.Hi);
        return fresh;
    }

    /// <summary>A (request id, PASID or RID_PASID when null) DMA of one address in scalable mode.</summary>
    private DmaTranslation TranslateSm(int rid, uint? pasid, ulong iova, IommuPerm access)
    {
        var ctx = SmContextFor(rid);
        if (ctx.Reason != 0) return Fault(rid, iova, access, ctx.Reason, ctx.Fault, record: true, ctx.Lo);
        var p = pasid ?? RidPasid(ctx.Hi);
        if (!_pasidCache.TryGetValue((rid, p), out var cfg))
        {
            cfg = FetchPasidEntry(ctx.Lo, p);
            if (!cfg.Failed) _pasidCache[(rid, p)] = cfg;
        }
        return ResolveSm(rid, p, cfg, iova, access, useIotlb: true, record: true);
    }

    private DmaTranslation ResolveSm(int rid, uint pasid, SmConfig cfg, ulong iova, IommuPerm access, bool useIotlb, bool record)
    {
        if (cfg.Failed) return Fault(rid, iova, access, cfg.Reason, cfg.Fault, record, cfg.FpdWord);
        var e = cfg.Entry;
        switch (e.Pgtt)
        {
            case VtdPasidEntry.PgttPassThrough:
                return DmaTranslation.Ok(iova, ulong.MaxValue);
            case VtdPasidEntry.PgttSecondLevel:
                if (WalkerOf(e.Slptptr, e.Aw) is not { } walker)
                    return Fault(rid, iova, access, VtdFaultReason.SmPasidEntryInvalid, DmaFault.ContextEntry, record, cfg.FpdWord);
                return WalkSecondLevel(rid, e.Did, walker, iova, access, useIotlb, record, cfg.FpdWord);
            default:
                var tag = PasidTag(e.Did, pasid);
                if (useIotlb && PasidIotlb.Lookup(tag, iova) is { } hit) return FromEntry(rid, hit, iova, access, record, cfg.FpdWord);
                if (useIotlb) { Walks++; PasidIotlb.RecordWalk(); }
                var w = VtdFirstLevelWalk.Walk(Memory, e.Flptptr, e.Flpm, iova);
                if (!w.IsOk)
                {
                    var reason = w.Status == PageTable.WalkStatus.ExternalAbort ? VtdFaultReason.PagingEntryAccess : access == IommuPerm.Write ? VtdFaultReason.Write : VtdFaultReason.Read;
                    return Fault(rid, iova, access, reason, FaultOf(w.Status), record, cfg.FpdWord);
                }
                var leaf = w.ToIotlbEntry(tag);
                if (useIotlb) PasidIotlb.Insert(Splinter(leaf, iova));
                return FromEntry(rid, leaf, iova, access, record, cfg.FpdWord);
        }
    }

    private HwContext DecodeSm(int rid)
    {
        var ctx = FetchSmContext(rid);
        if (ctx.Reason is VtdFaultReason.SmRootNotPresent) return HwContext.None;
        if (ctx.Reason != 0) return new HwContext(HwContextKind.Abort, null);
        var cfg = FetchPasidEntry(ctx.Lo, RidPasid(ctx.Hi));
        if (cfg.Failed) return new HwContext(HwContextKind.Abort, null);
        return cfg.Entry.Pgtt == VtdPasidEntry.PgttPassThrough
            ? new HwContext(HwContextKind.Bypass, null)
            : new HwContext(HwContextKind.Translate, cfg.Entry.Did);
    }

    private readonly List<(TranslationSource Source, uint Pasid, SmConfig Config)> _smConfigs = new(3);
    private readonly List<uint> _dirScan = [], _tableScan = [];

    /// <summary>The PASID entries a DMA could use: through the context entry in memory and through the cached one.</summary>
    private List<(TranslationSource Source, uint Pasid, SmConfig Config)> SmConfigs(int rid, uint? pasid)
    {
        var configs = _smConfigs;   // one at a time: every caller holds the lock and uses the list before the next call
        configs.Clear();
        var fresh = FetchSmContext(rid);
        var freshPasid = pasid ?? RidPasid(fresh.Hi);
        var freshCfg = fresh.Reason != 0 ? SmConfig.Fail(fresh.Reason, fresh.Fault, fresh.Lo) : FetchPasidEntry(fresh.Lo, freshPasid);
        configs.Add((TranslationSource.FreshWalk, freshPasid, freshCfg));
        if (_contextCache.TryGetValue(rid, out var ctx))
        {
            // a DMA with the context entry cached reads the PASID entry through it, or finds that PASID entry cached
            var p = pasid ?? RidPasid(ctx.Hi);
            Add(p, FetchPasidEntry(ctx.Lo, p));
            if (_pasidCache.TryGetValue((rid, p), out var cached)) Add(p, cached);
        }
        else if (fresh.Reason == 0 && _pasidCache.TryGetValue((rid, freshPasid), out var cached)) Add(freshPasid, cached);
        return configs;

        void Add(uint p, SmConfig cfg)
        {
            foreach (var c in configs)
                if (c.Pasid == p && c.Config == cfg) return;
            configs.Add((TranslationSource.CachedConfig, p, cfg));
        }
    }

    private void PeekSm(int rid, uint? pasid, ulong iova, IommuPerm access, List<PossibleTranslation> found)
    {
        var configs = SmConfigs(rid, pasid);
        foreach (var (source, p, cfg) in configs) found.Add(new(source, ResolveSm(rid, p, cfg, iova, access, useIotlb: false, record: false)));
        foreach (var (_, p, cfg) in configs)
        {
            if (cfg.Failed) continue;
            var e = cfg.Entry.Pgtt switch
            {
                VtdPasidEntry.PgttSecondLevel => Iotlb.Peek(cfg.Entry.Did, iova),
                VtdPasidEntry.PgttFirstLevel when PeekPasidTag(cfg.Entry.Did, p) is { } tag => PasidIotlb.Peek(tag, iova),
                _ => null,
            };
            if (e is { } hit)
                found.Add(new(TranslationSource.Iotlb, (hit.Perm & access) == access && hit.Perm != IommuPerm.None
                    ? DmaTranslation.Ok(hit.Translate(iova), hit.Iova + hit.Size - 1)
                    : DmaTranslation.Faulted(hit.Perm == IommuPerm.None ? DmaFault.Translation : DmaFault.Permission)));
        }
    }

    private void CollectTablesSm(int rid, bool withPages, List<HardwareTable> found)
    {
        foreach (var (source, _, cfg) in SmConfigs(rid, null))
            if (!cfg.Failed && cfg.Entry.Pgtt == VtdPasidEntry.PgttSecondLevel && WalkerOf(cfg.Entry.Slptptr, cfg.Entry.Aw) is { } w)
                found.Add(new(source, cfg.Entry.Did, w.RootPhys, withPages ? w.ReachableTablePages() : []));
    }

    // pc_inv_dsc: granularity 0 all PASIDs of a DID, 1 one PASID of a DID, 3 global (QI_PC_ALL_PASIDS / PASID_SEL / GLOBAL)
    private void InvalidatePasidCache(int gran, int did, uint pasid)
    {
        foreach (var key in _pasidCache.Where(kv => gran == 3 || (kv.Value.Entry.Did == did && (gran == 0 || kv.Key.Pasid == pasid))).Select(kv => kv.Key).ToList())
            _pasidCache.Remove(key);
    }

    // p_iotlb_inv_dsc: granularity 2 all of (DID, PASID), 3 a page range of it
    private void InvalidatePasidIotlb(int did, uint pasid, ulong? addr, ulong size)
    {
        if (PeekPasidTag(did, pasid) is not { } tag) return;
        if (addr is { } a) PasidIotlb.InvalidateRange(tag, a, size);
        else PasidIotlb.InvalidateTag(tag);
    }

    // A context-cache invalidation drops the PASID entries cached under the context entries it covers.
    private void DropPasidCacheOf(int? rid)
    {
        foreach (var key in _pasidCache.Keys.Where(k => rid is null || k.Rid == rid).ToList()) _pasidCache.Remove(key);
    }

    protected override DmaTranslation TranslatePasidOne(int rid, uint pasid, ulong iova, IommuPerm access) =>
        Scalable ? TranslateSm(rid, pasid, iova, access) : base.TranslatePasidOne(rid, pasid, iova, access);

    protected override void PeekPasid(int rid, uint pasid, ulong iova, IommuPerm access, List<PossibleTranslation> found)
    {
        if (Scalable) PeekSm(rid, pasid, iova, access, found);
        else base.PeekPasid(rid, pasid, iova, access, found);
    }

    protected override void CollectPasids(int rid, SortedSet<uint> found)
    {
        if (!Scalable) return;
        foreach (var (key, _) in _pasidCache)
            if (key.Rid == rid && key.Pasid != 0) found.Add(key.Pasid);
        var fresh = FetchSmContext(rid);
        if (fresh.Reason == 0) AddPresent(fresh.Lo);
        // a cached context entry naming the same PASID directory holds the same entries: read them once
        if (_contextCache.TryGetValue(rid, out var ctx) && (fresh.Reason != 0 || ctx.Lo != fresh.Lo)) AddPresent(ctx.Lo);

        void AddPresent(ulong lo)
        {
            _dirScan.Clear();
            Memory.ScanFlagged(lo & VtdEntry.AddrMask, (uint)VtdSm.DirEntries(lo), VtdSm.DirEntryBytes, VtdEntry.P, _dirScan);
            foreach (var d in _dirScan)
            {
                var pde = Memory.Read((lo & VtdEntry.AddrMask) + d * (ulong)VtdSm.DirEntryBytes);
                _tableScan.Clear();
                Memory.ScanFlagged(pde & VtdEntry.AddrMask, VtdSm.PasidPteMask + 1, VtdSm.PasidEntryBytes, VtdPasidEntry.P, _tableScan);
                foreach (var i in _tableScan)
                    if (((d << VtdSm.PasidPdeShift) | i) is var pasid and not 0) found.Add(pasid);
            }
        }
    }
}
