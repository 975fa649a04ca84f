using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware.Smmuv3;

/// <summary>
/// Substreams (SMMUv3 §5.4, QEMU has none): a PASID-tagged DMA carries SubstreamID = PASID; the STE's CD table
/// (S1ContextPtr, S1Fmt linear or two-level with 64 KiB leaf tables of 1024 CDs, S1CDMax) gives the CD at that SSID,
/// whose TTB0 and ASID the walk and the IOTLB use. An SSID at or past 2^S1CDMax, or an STE without a CD table, is
/// C_BAD_SUBSTREAMID. CDs are cached per (stream, SSID) until CFGI_CD of that SSID, CFGI_STE of the stream or CFGI_ALL
/// completes: a CD rewritten without its CFGI_CD stays in use from the cache.
/// </summary>
public sealed partial class Smmuv3Hardware
{
    private readonly Dictionary<(int Sid, uint Ssid), Smmuv3Config> _cdCache = [];
    private readonly List<uint> _scan = [];

    /// <summary>The CD's address at <paramref name="ssid"/> in a CD table, or null with the failure (L1 descriptor unreadable or invalid).</summary>
    private ulong? CdAddress((ulong Base, ulong Fmt, int CdMax) table, uint ssid, out Smmuv3Config? failed)
    {
        failed = null;
        if (table.Fmt == Smmuv3Ste.S1FmtLinear) return table.Base + ssid * (ulong)Smmuv3Cd.Bytes;
        var l1 = table.Base + (ssid >> Smmuv3CdL1.L2Bits) * (ulong)Smmuv3CdL1.Bytes;
        if (Memory.Load64(l1, out var desc) != MemAccess.Ok) failed = Smmuv3Config.Fail(Smmuv3Event.CdFetch, l1);
        else if ((desc & Smmuv3CdL1.V) == 0) failed = Smmuv3Config.Fail(Smmuv3Event.BadCd);
        else return (desc & Smmuv3CdL1.L2PtrMask) + (ssid & ((1u << Smmuv3CdL1.L2Bits) - 1)) * (ulong)Smmuv3Cd.Bytes;
        return null;
    }

    /// <summary>The CD of substream <paramref name="ssid"/> under a decoded STE, read from memory now.</summary>
    private Smmuv3Config FetchCd(Smmuv3Config ste, uint ssid)
    {
        if (ste.CdTable is not { } table) return ste.Failed ? ste : Smmuv3Config.Fail(Smmuv3Event.BadSubstreamId);
        if (table.CdMax == 0 || ssid >= 1u << table.CdMax) return Smmuv3Config.Fail(Smmuv3Event.BadSubstreamId);
        return CdAddress(table, ssid, out var failed) is { } at ? DecodeCd(at) : failed!;
    }

    /// <summary>A substream's config as a DMA sees it: the CD cache, else the CD through the (cached) STE, filling the cache.</summary>
    private Smmuv3Config CdFor(int sid, uint ssid)
    {
        if (_cdCache.TryGetValue((sid, ssid), out var cached))
        {
            ConfigHits++;
            return cached;
        }
        var cd = FetchCd(ConfigFor(sid), ssid);
        ConfigMisses++;
        if (!cd.Failed) _cdCache[(sid, ssid)] = cd;
        return cd;
    }

    private void InvalidateCd(int sid, uint ssid) => _cdCache.Remove((sid, ssid));

    protected override DmaTranslation TranslatePasidOne(int rid, uint pasid, ulong iova, IommuPerm access)
    {
        var sid = BusSid(rid);
        return TranslateWith(CdFor(sid, pasid), sid, iova, access);
    }

    protected override void PeekPasid(int rid, uint pasid, ulong iova, IommuPerm access, List<PossibleTranslation> found)
    {
        var sid = BusSid(rid);
        var freshSte = FetchConfig(sid);
        var fresh = FetchCd(freshSte, pasid);
        found.Add(new(TranslationSource.FreshWalk, Resolve(fresh, iova, access, fresh.Walker?.Walk(iova))));
        var configs = new List<Smmuv3Config>(3) { fresh };
        // a DMA with the STE cached but not the CD reads the CD through the cached STE's table
        if (_configCache.TryGetValue(sid, out var cachedSte) && cachedSte != freshSte && FetchCd(cachedSte, pasid) is var viaCached && !configs.Contains(viaCached))
            configs.Add(viaCached);
        if (_cdCache.TryGetValue((sid, pasid), out var cachedCd) && !configs.Contains(cachedCd)) configs.Add(cachedCd);
        for (var i = 1; i < configs.Count; i++)
            found.Add(new(TranslationSource.CachedConfig, Resolve(configs[i], iova, access, configs[i].Walker?.Walk(iova))));
        foreach (var cfg in configs) PeekCaches(cfg, iova, access, found);
    }

    protected override void CollectPasids(int rid, SortedSet<uint> found)
    {
        var sid = BusSid(rid);
        foreach (var (key, _) in _cdCache)
            if (key.Sid == sid) found.Add(key.Ssid);
        var fresh = FetchConfig(sid);
        AddValid(fresh);
        // a cached STE naming the same CD table holds the same CDs: read them once
        if (_configCache.TryGetValue(sid, out var cachedSte) && cachedSte.CdTable != fresh.CdTable) AddValid(cachedSte);

        void AddValid(Smmuv3Config ste)
        {
            if (ste.CdTable is not { CdMax: > 0 } table) return;
            var count = 1u << table.CdMax;
            var step = table.Fmt == Smmuv3Ste.S1FmtLinear ? count : 1u << Smmuv3CdL1.L2Bits;
            for (var first = 0u; first < count; first += step)
            {
                if (CdAddress(table, first, out _) is not { } leaf) continue;   // an L2 table not present
                _scan.Clear();
                Memory.ScanFlagged(leaf, Math.Min(step, count - first), Smmuv3Cd.Bytes, Smmuv3Cd.V, _scan);
                foreach (var i in _scan)
                    if (first + i != 0) found.Add(first + i);
            }
        }
    }
}
