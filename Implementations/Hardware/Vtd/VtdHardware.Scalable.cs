using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware.Vtd;

/// <summary>
/// Scalable mode (VT-d 4.x §3.4.3, §9.4–9.6; ECAP.SMTS, selected by RTADDR.TTM = 01). A request id's root entry gives
/// the context table of its devfn half (LCTP below 0x80, UCTP from it), the 256-bit context entry the PASID directory
/// (2^(PDTS+7) entries), the directory entry a PASID table of 64 entries, and the PASID entry the translation: PGTT 1
/// first level (an x86-64 table, <see cref="VtdFirstLevelWalk"/>), 2 second level (the legacy walk, DID-tagged
/// IOTLB), 4 pass-through. A request without PASID uses the context entry's RID_PASID. Context entries are cached
/// per request id as in legacy mode; PASID entries are read from memory at each request (no PASID cache yet).
/// A not-present or FPD-cleared PASID entry blocks; FPD in the context entry or the PASID entry suppresses recording.
/// </summary>
public sealed partial class VtdHardware
{
    /// <summary>ECAP.SMTS: the unit can run in scalable mode (the topology option <c>scalable</c>).</summary>
    public bool ScalableSupported { get; }

    /// <summary>The unit translates in scalable mode now: supported and RTADDR.TTM = 01.</summary>
    public bool Scalable => ScalableSupported && (_rtaddr & VtdSm.RtaddrTtmMask) == VtdSm.RtaddrTtmScalable;

    /// <summary>What a (request id, PASID) resolved to: a PASID entry, or a fault with its reason and the word holding FPD.</summary>
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
        return ResolveSm(rid, FetchPasidEntry(ctx.Lo, pasid ?? RidPasid(ctx.Hi)), iova, access, useIotlb: true, record: true);
    }

    private DmaTranslation ResolveSm(int rid, SmConfig cfg, ulong iova, IommuPerm access, bool useIotlb, bool record)
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
                if (useIotlb) Walks++;
                var w = VtdFirstLevelWalk.Walk(Memory, e.Flptptr, e.Flpm, iova);
                if (!w.IsOk)
                {
                    var reason = w.Status == PageTable.WalkStatus.ExternalAbort ? VtdFaultReason.PagingEntryAccess : access == IommuPerm.Write ? VtdFaultReason.Write : VtdFaultReason.Read;
                    return Fault(rid, iova, access, reason, FaultOf(w.Status), record, cfg.FpdWord);
                }
                return FromEntry(rid, w.ToIotlbEntry(e.Did), iova, access, record, cfg.FpdWord);
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

    /// <summary>The PASID entries a DMA could use: through the context entry in memory and through the cached one.</summary>
    private List<(TranslationSource Source, SmConfig Config)> SmConfigs(int rid, uint? pasid)
    {
        var configs = new List<(TranslationSource, SmConfig)>(2);
        var fresh = FetchSmContext(rid);
        var freshCfg = fresh.Reason != 0 ? SmConfig.Fail(fresh.Reason, fresh.Fault, fresh.Lo) : FetchPasidEntry(fresh.Lo, pasid ?? RidPasid(fresh.Hi));
        configs.Add((TranslationSource.FreshWalk, freshCfg));
        if (_contextCache.TryGetValue(rid, out var ctx) && FetchPasidEntry(ctx.Lo, pasid ?? RidPasid(ctx.Hi)) is var viaCached && viaCached != freshCfg)
            configs.Add((TranslationSource.CachedConfig, viaCached));
        return configs;
    }

    private void PeekSm(int rid, uint? pasid, ulong iova, IommuPerm access, List<PossibleTranslation> found)
    {
        var configs = SmConfigs(rid, pasid);
        foreach (var (source, cfg) in configs) found.Add(new(source, ResolveSm(rid, cfg, iova, access, useIotlb: false, record: false)));
        foreach (var (_, cfg) in configs)
            if (!cfg.Failed && cfg.Entry.Pgtt == VtdPasidEntry.PgttSecondLevel && Iotlb.Peek(cfg.Entry.Did, iova) is { } e)
                found.Add(new(TranslationSource.Iotlb, (e.Perm & access) == access && e.Perm != IommuPerm.None
                    ? DmaTranslation.Ok(e.Translate(iova), e.Iova + e.Size - 1)
                    : DmaTranslation.Faulted(e.Perm == IommuPerm.None ? DmaFault.Translation : DmaFault.Permission)));
    }

    private void CollectTablesSm(int rid, bool withPages, List<HardwareTable> found)
    {
        foreach (var (source, cfg) in SmConfigs(rid, null))
            if (!cfg.Failed && cfg.Entry.Pgtt == VtdPasidEntry.PgttSecondLevel && WalkerOf(cfg.Entry.Slptptr, cfg.Entry.Aw) is { } w)
                found.Add(new(source, cfg.Entry.Did, w.RootPhys, withPages ? w.ReachableTablePages() : []));
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
        var fresh = FetchSmContext(rid);
        if (fresh.Reason == 0) AddPresent(fresh.Lo);
        if (_contextCache.TryGetValue(rid, out var ctx)) AddPresent(ctx.Lo);

        void AddPresent(ulong lo)
        {
            for (var d = 0u; d < (uint)VtdSm.DirEntries(lo); d++)
            {
                if (Memory.Load64((lo & VtdEntry.AddrMask) + d * VtdSm.DirEntryBytes, out var pde) != MemAccess.Ok || (pde & VtdEntry.P) == 0) continue;
                for (var i = 0u; i <= VtdSm.PasidPteMask; i++)
                {
                    var pasid = (d << VtdSm.PasidPdeShift) | i;
                    if (pasid != 0 && Memory.Load64((pde & VtdEntry.AddrMask) + i * VtdSm.PasidEntryBytes, out var w0) == MemAccess.Ok && (w0 & VtdPasidEntry.P) != 0)
                        found.Add(pasid);
                }
            }
        }
    }
}
