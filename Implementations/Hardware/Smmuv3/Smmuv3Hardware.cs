using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Hardware.Smmuv3;

/// <summary>
/// An emulated SMMUv3 (after QEMU hw/arm/smmuv3.c): a linear stream table of 64-byte STEs and stage-1 CDs in
/// memory, a config cache per stream invalidated only by CFGI, an IOTLB tagged by ASID (256 entries, flushed
/// whole when full), a walk cache of table descriptors (Smmuv3Hardware.WalkCache.cs), a command queue in memory and an
/// event queue with overflow. The domain id the snapshot
/// shows is the CD's ASID (the emulated driver's ASID allocator hands out the domain id). Stream ids are
/// truncated to IDR1.SIDSIZE bits on the bus.
/// </summary>
public sealed partial class Smmuv3Hardware : IommuHardware
{
    public const int IotlbEntries = 256;
    public const int DefaultSidBits = 8;

    private readonly Dictionary<int, Smmuv3Config> _configCache = [];
    private readonly Dictionary<(ulong Root, int Ias, int Oas), ArmLpaePgtable> _walkers = [];
    private readonly Dictionary<int, (ulong Generation, ulong Base, ulong Cfg, Smmuv3Config Config)> _decoded = [];
    private readonly Dictionary<ulong, (ulong Generation, Smmuv3Config Config)> _decodedCds = [];
    private readonly int _sidBits;
    private readonly Bugs.BugSwitches _bugs;
    private ulong _strtabBase, _strtabCfg;

    /// <param name="sidBits">IDR1.SIDSIZE: stream-id bits the SMMU decodes (seeded bug stream_table_alias: 1).</param>
    /// <param name="bugs">The emulator's own seeded bugs (<see cref="Bugs.BugCatalogue.HardwareQueue"/>).</param>
    public Smmuv3Hardware(string instance, HardwarePlatform platform, int sidBits = DefaultSidBits, Bugs.BugSwitches? bugs = null)
        : base(instance, platform)
    {
        _sidBits = sidBits;
        _bugs = bugs ?? Bugs.BugSwitches.None;
        Iotlb = new Iotlb(IotlbEntries, [1UL << 12, 1UL << 21, 1UL << 30], IotlbFullPolicy.FlushAllWhenFull);
        platform.Allocator.Freed += OnFramesFreed;
    }

    public Iotlb Iotlb { get; }

    public long ConfigHits { get; private set; }
    public long ConfigMisses { get; private set; }

    protected override string EntryName => "STE";

    /// <summary>The stream id the SMMU sees for a device's id (high bits past SIDSIZE are not wired).</summary>
    private int BusSid(int sid) => sid & ((1 << _sidBits) - 1);

    // ---- MMIO ----

    public ulong ReadReg(int offset)
    {
        lock (Gate) return offset switch
        {
            Smmuv3Regs.Idr1 => (ulong)_sidBits,
            Smmuv3Regs.StrtabBase => _strtabBase,
            Smmuv3Regs.StrtabBaseCfg => _strtabCfg,
            Smmuv3Regs.CmdqBase => _cmdqBase,
            Smmuv3Regs.CmdqProd => _cmdqProd,
            Smmuv3Regs.CmdqCons => _cmdqCons,
            Smmuv3Regs.EvtqBase => _evtqBase,
            Smmuv3Regs.EvtqProd => _evtqProd,
            Smmuv3Regs.EvtqCons => _evtqCons,
            Smmuv3Regs.Gerror => _gerror,
            Smmuv3Regs.Gerrorn => _gerrorn,
            _ => 0,
        };
    }

    /// <summary>A register write. Writing CMDQ_PROD makes the SMMU consume commands up to it (unless an error is latched).</summary>
    public void WriteReg(int offset, ulong value)
    {
        lock (Gate)
        {
            switch (offset)
            {
                case Smmuv3Regs.StrtabBase: _strtabBase = value; break;
                case Smmuv3Regs.StrtabBaseCfg: _strtabCfg = value; break;
                case Smmuv3Regs.CmdqBase: _cmdqBase = value; break;
                case Smmuv3Regs.CmdqProd: _cmdqProd = (uint)value; ConsumeCommands(); break;
                case Smmuv3Regs.EvtqBase: _evtqBase = value; break;
                case Smmuv3Regs.EvtqCons: _evtqCons = (uint)value; break;
                case Smmuv3Regs.Gerrorn:
                    _gerrorn = (uint)value;
                    ConsumeCommands();   // an acknowledged CMDQ_ERR lets the queue run again
                    break;
            }
        }
    }

    // ---- configuration ----

    private int StrtabEntries => 1 << (int)(_strtabCfg & 0x3F);

    /// <summary>
    /// Reads and decodes the STE (and CD) of bus stream <paramref name="sid"/> from memory. A decode reads nothing but
    /// memory and the stream-table registers, so the last one of each stream is reused while neither changed: the
    /// checks' views probe one device at many addresses between two writes.
    /// </summary>
    private Smmuv3Config FetchConfig(int sid)
    {
        var generation = Memory.Generation;
        if (_decoded.TryGetValue(sid, out var last) && last.Generation == generation && last.Base == _strtabBase && last.Cfg == _strtabCfg)
            return last.Config;
        var config = DecodeConfig(sid);
        _decoded[sid] = (generation, _strtabBase, _strtabCfg, config);
        return config;
    }

    private Smmuv3Config DecodeConfig(int sid)
    {
        if (_strtabBase == 0 || sid >= StrtabEntries) return Smmuv3Config.Fail(Smmuv3Event.BadStreamId);
        var steAddr = (_strtabBase & Smmuv3Ste.S1CtxPtrMask) + (ulong)sid * Smmuv3Ste.Bytes;
        if (Memory.Load64(steAddr, out var ste) != MemAccess.Ok) return Smmuv3Config.Fail(Smmuv3Event.SteFetch, steAddr);
        if ((ste & Smmuv3Ste.V) == 0) return Smmuv3Config.Fail(Smmuv3Event.BadSte);
        switch ((ste & Smmuv3Ste.CfgMask) >> Smmuv3Ste.CfgShift)
        {
            case Smmuv3Ste.CfgAbort: return new Smmuv3Config(Smmuv3ConfigKind.Abort, 0, null, false);
            case Smmuv3Ste.CfgBypass: return new Smmuv3Config(Smmuv3ConfigKind.Bypass, 0, null, false);
            case Smmuv3Ste.CfgS1Trans: break;
            default: return Smmuv3Config.Fail(Smmuv3Event.BadSte);
        }
        if (Memory.Load64(steAddr + 8, out var ste1) != MemAccess.Ok) return Smmuv3Config.Fail(Smmuv3Event.SteFetch, steAddr + 8);
        var table = (ste & Smmuv3Ste.S1CtxPtrMask, (ste >> Smmuv3Ste.S1FmtShift) & 3, (int)((ste >> Smmuv3Ste.S1CdMaxShift) & 31));
        // S1DSS applies only with substreams: untagged DMA bypasses, aborts, or uses CD 0
        if (table.Item3 > 0 && (ste1 & Smmuv3Ste.S1DssMask) == Smmuv3Ste.S1DssBypass)
            return new Smmuv3Config(Smmuv3ConfigKind.Bypass, 0, null, false) { CdTable = table };
        if (table.Item3 > 0 && (ste1 & Smmuv3Ste.S1DssMask) != Smmuv3Ste.S1DssSsid0)
            return new Smmuv3Config(Smmuv3ConfigKind.Abort, 0, null, false) { CdTable = table };
        var cd = CdAddress(table, 0, out var failed) is { } at ? DecodeCd(at) : failed!;
        return cd with { CdTable = table };
    }

    /// <summary>
    /// Decodes the CD at <paramref name="cdAddr"/>: a stage-1 config, or the event a bad or unreadable CD raises. Reused
    /// while memory is unchanged, as <see cref="FetchConfig"/>.
    /// </summary>
    private Smmuv3Config DecodeCd(ulong cdAddr)
    {
        var generation = Memory.Generation;
        if (_decodedCds.TryGetValue(cdAddr, out var last) && last.Generation == generation) return last.Config;
        var config = ReadCd(cdAddr);
        _decodedCds[cdAddr] = (generation, config);
        return config;
    }

    private Smmuv3Config ReadCd(ulong cdAddr)
    {
        if (Memory.Load64(cdAddr, out var cd0) != MemAccess.Ok || Memory.Load64(cdAddr + 8, out var cd1) != MemAccess.Ok)
            return Smmuv3Config.Fail(Smmuv3Event.CdFetch, cdAddr);
        if ((cd0 & Smmuv3Cd.V) == 0 || (cd0 & Smmuv3Cd.Aa64) == 0) return Smmuv3Config.Fail(Smmuv3Event.BadCd);
        var ias = 64 - (int)(cd0 & Smmuv3Cd.T0szMask);
        var ips = (int)((cd0 >> Smmuv3Cd.IpsShift) & 7);
        if (ias is < 25 or > 48 || ips >= Smmuv3Cd.IpsBits.Length || ((cd0 >> Smmuv3Cd.Tg0Shift) & 3) != 0)
            return Smmuv3Config.Fail(Smmuv3Event.BadCd);
        var oas = Smmuv3Cd.IpsBits[ips];
        var root = cd1 & Smmuv3Cd.Ttb0Mask;
        if (!_walkers.TryGetValue((root, ias, oas), out var walker))
        {
            walker = ArmLpaePgtable.ForWalk(new ArmLpaeConfig(ArmLpaeStage.Stage1, 4096, ias, oas), Platform.Allocator, root);
            if (walker is null) return Smmuv3Config.Fail(Smmuv3Event.BadCd);
            _walkers[(root, ias, oas)] = walker;
        }
        return new Smmuv3Config(Smmuv3ConfigKind.S1, (int)(cd0 >> Smmuv3Cd.AsidShift), walker, (cd0 & Smmuv3Cd.R) != 0);
    }

    /// <summary>The config of a stream as a DMA sees it: the config cache, else a fetch that fills it.</summary>
    private Smmuv3Config ConfigFor(int sid)
    {
        if (_configCache.TryGetValue(sid, out var cached))
        {
            ConfigHits++;
            return cached;
        }
        ConfigMisses++;
        var cfg = FetchConfig(sid);
        if (!cfg.Failed) _configCache[sid] = cfg;   // a failed fetch is not cached
        return cfg;
    }

    protected override HwContext Decode(int rid) => FetchConfig(BusSid(rid)).ToContext();

    // ---- translation ----

    protected override DmaTranslation TranslateOne(int rid, ulong iova, IommuPerm access)
    {
        var sid = BusSid(rid);
        return TranslateWith(ConfigFor(sid), sid, iova, access);
    }

    // A translation through a decoded config (the STE's, or a substream's CD).
    private DmaTranslation TranslateWith(Smmuv3Config cfg, int sid, ulong iova, IommuPerm access)
    {
        if (cfg.Failed)
        {
            RecordEvent(cfg.FailedEvent, sid, iova, access, cfg.FetchAddr);
            return DmaTranslation.Faulted(Smmuv3Event.FaultOf(cfg.FailedEvent));
        }
        switch (cfg.Kind)
        {
            case Smmuv3ConfigKind.Abort: return DmaTranslation.Faulted(DmaFault.Blocked);   // CONFIG abort: no event
            case Smmuv3ConfigKind.Bypass: return DmaTranslation.Ok(iova, ulong.MaxValue);
        }
        if (Iotlb.Lookup(cfg.Asid, iova) is { } hit)
            return Checked(hit, iova, access, cfg, sid);
        Walks++;
        Iotlb.RecordWalk();
        var walk = WalkCached(cfg.Asid, cfg.Walker!, iova);
        if (!walk.IsOk)
        {
            var id = EventOf(walk.Status);
            if (cfg.RecordFaults || id == Smmuv3Event.WalkEabt) RecordEvent(id, sid, iova, access, walk.FaultAddress);
            return DmaTranslation.Faulted(FaultOf(walk.Status));
        }
        var entry = walk.ToIotlbEntry(cfg.Asid);
        Iotlb.Insert(entry);
        return Checked(entry, iova, access, cfg, sid);
    }

    // A hit re-checks the access against the cached leaf's rights.
    private DmaTranslation Checked(IotlbEntry e, ulong iova, IommuPerm access, Smmuv3Config cfg, int sid)
    {
        if ((e.Perm & access) == access) return DmaTranslation.Ok(e.Translate(iova), e.Iova + e.Size - 1);
        if (cfg.RecordFaults) RecordEvent(Smmuv3Event.Permission, sid, iova, access, 0);
        return DmaTranslation.Faulted(DmaFault.Permission);
    }

    private static byte EventOf(WalkStatus status) => status switch
    {
        WalkStatus.PermissionFault => Smmuv3Event.Permission,
        WalkStatus.AccessFault => Smmuv3Event.Access,
        WalkStatus.AddressSizeFault => Smmuv3Event.AddrSize,
        WalkStatus.ExternalAbort => Smmuv3Event.WalkEabt,
        _ => Smmuv3Event.Translation,
    };

    protected override void Peek(int rid, ulong iova, IommuPerm access, List<PossibleTranslation> found)
    {
        var sid = BusSid(rid);
        var fresh = FetchConfig(sid);
        found.Add(new(TranslationSource.FreshWalk, Resolve(fresh, iova, access, fresh.Walker?.Walk(iova))));
        var other = _configCache.TryGetValue(sid, out var cached) && cached != fresh ? cached : null;
        if (other is not null)
            found.Add(new(TranslationSource.CachedConfig, Resolve(other, iova, access, other.Walker?.Walk(iova))));
        PeekCaches(fresh, iova, access, found);
        if (other is not null) PeekCaches(other, iova, access, found);
    }

    // What the walk cache and the IOTLB could answer under a stage-1 config.
    private void PeekCaches(Smmuv3Config cfg, ulong iova, IommuPerm access, List<PossibleTranslation> found)
    {
        if (cfg is not { Failed: false, Kind: Smmuv3ConfigKind.S1 }) return;
        if (PeekCachedWalk(cfg.Asid, cfg.Walker!, iova) is { } resumed)
            found.Add(new(TranslationSource.WalkCache, Resolve(cfg, iova, access, resumed)));
        if (Iotlb.Peek(cfg.Asid, iova) is { } e)
            found.Add(new(TranslationSource.Iotlb, (e.Perm & access) == access
                ? DmaTranslation.Ok(e.Translate(iova), e.Iova + e.Size - 1) : DmaTranslation.Faulted(DmaFault.Permission)));
    }

    protected override void CollectIotlb(List<IotlbEntry> entries) => entries.AddRange(Iotlb.Entries);

    protected override void CollectTables(int rid, bool withPages, List<HardwareTable> found)
    {
        var sid = BusSid(rid);
        var fresh = FetchConfig(sid);
        Add(fresh, TranslationSource.FreshWalk);
        if (_configCache.TryGetValue(sid, out var cached) && cached != fresh) Add(cached, TranslationSource.CachedConfig);

        void Add(Smmuv3Config cfg, TranslationSource source)
        {
            if (cfg is { Failed: false, Kind: Smmuv3ConfigKind.S1, Walker: { } w })
                found.Add(new(source, cfg.Asid, w.RootPhys, withPages ? w.ReachableTablePages() : []));
        }
    }

    private static DmaTranslation Resolve(Smmuv3Config cfg, ulong iova, IommuPerm access, WalkResult? walk)
    {
        if (cfg.Failed) return DmaTranslation.Faulted(Smmuv3Event.FaultOf(cfg.FailedEvent));
        if (cfg.Kind == Smmuv3ConfigKind.Abort) return DmaTranslation.Faulted(DmaFault.Blocked);
        if (cfg.Kind == Smmuv3ConfigKind.Bypass) return DmaTranslation.Ok(iova, ulong.MaxValue);
        var w = walk!.Value.Check(access);
        return w.IsOk ? DmaTranslation.Ok(w.Phys, w.LeafIova + w.LeafSize - 1) : DmaTranslation.Faulted(FaultOf(w.Status));
    }

    /// <summary>Applies a CFGI once its SYNC completes: the cached config goes; a new one naming a freed domain is a use-after-free.</summary>
    private void InvalidateConfig(int? sid, bool withCds = true)
    {
        if (withCds) foreach (var key in _cdCache.Keys.Where(k => sid is null || k.Sid == sid).ToList()) _cdCache.Remove(key);
        foreach (var s in sid is { } one ? [one] : _configCache.Keys.ToArray())
        {
            _configCache.Remove(s);
            if (FetchConfig(s).ToContext() is { Kind: HwContextKind.Translate, DomainId: { } id } && Platform.IsFreed(id))
                foreach (var dev in DevicesAt(s, BusSid))
                    Platform.Errors.Add($"{Instance}: STE of {dev} set to translate through freed domain #{id}");
        }
    }
}
