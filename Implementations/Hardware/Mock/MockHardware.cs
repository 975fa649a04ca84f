using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Hardware.Mock;

/// <summary>
/// The "hardware" behind the iommufd selftest mock: a table of 16-byte attach records in memory, one per
/// requester id (word 0: V, kind, domain id; word 1: the MockPgtable root), whose base the driver writes to
/// <see cref="RecordTableBase"/>. No cache of any kind: every DMA reads the record and walks the 2 KiB-page table.
/// Faults are counted and kept in <see cref="FaultLog"/> (the selftest has no fault reporting of its own).
/// </summary>
public sealed class MockHardware(string instance, HardwarePlatform platform) : IommuHardware(instance, platform)
{
    public const int RecordBytes = 16;
    public const ulong V = 1;
    public const int KindShift = 1, DomainShift = 32;
    public const ulong KindAbort = 0, KindBypass = 1, KindTranslate = 2;

    private readonly Dictionary<ulong, MockPgtable> _walkers = [];
    private readonly List<(int Rid, ulong Iova, DmaFault Fault)> _faults = [];
    private ulong _base;

    public static ulong Record(ulong kind, int domainId) => V | (kind << KindShift) | ((ulong)(uint)domainId << DomainShift);

    /// <summary>The record table's physical base (an MMIO-like register; 0 = none).</summary>
    public ulong RecordTableBase
    {
        get { lock (Gate) return _base; }
        set { lock (Gate) _base = value; }
    }

    public IReadOnlyList<(int Rid, ulong Iova, DmaFault Fault)> FaultLog
    {
        get { lock (Gate) return [.. _faults]; }
    }

    protected override string EntryName => "attach record";

    private (ulong W0, ulong Root, bool Ok) Fetch(int rid)
    {
        if (_base == 0) return (0, 0, false);
        var at = _base + (ulong)rid * RecordBytes;
        if (Memory.Load64(at, out var w0) != MemAccess.Ok || Memory.Load64(at + 8, out var root) != MemAccess.Ok) return (0, 0, false);
        return (w0, root, true);
    }

    protected override HwContext Decode(int rid)
    {
        var (w0, _, ok) = Fetch(rid);
        if (!ok || (w0 & V) == 0) return HwContext.None;
        return ((w0 >> KindShift) & 3) switch
        {
            KindAbort => new HwContext(HwContextKind.Abort, null),
            KindBypass => new HwContext(HwContextKind.Bypass, null),
            KindTranslate => new HwContext(HwContextKind.Translate, (int)(w0 >> DomainShift)),
            _ => HwContext.None,
        };
    }

    private DmaTranslation Resolve(int rid, ulong iova, IommuPerm access, bool count)
    {
        var (w0, root, ok) = Fetch(rid);
        if (!ok) return DmaTranslation.Faulted(DmaFault.ExternalAbort);
        if ((w0 & V) == 0) return DmaTranslation.Faulted(DmaFault.ContextEntry);
        switch ((w0 >> KindShift) & 3)
        {
            case KindAbort: return DmaTranslation.Faulted(DmaFault.Blocked);
            case KindBypass: return DmaTranslation.Ok(iova, ulong.MaxValue);
            case KindTranslate: break;
            default: return DmaTranslation.Faulted(DmaFault.ContextEntry);
        }
        if (!_walkers.TryGetValue(root, out var walker)) _walkers[root] = walker = MockPgtable.ForWalk(Platform.Allocator, root);
        if (count) Walks++;
        var w = walker.Walk(iova, access);
        return w.IsOk ? DmaTranslation.Ok(w.Phys, w.LeafIova + w.LeafSize - 1) : DmaTranslation.Faulted(FaultOf(w.Status));
    }

    protected override DmaTranslation TranslateOne(int rid, ulong iova, IommuPerm access)
    {
        var t = Resolve(rid, iova, access, count: true);
        if (t.Fault is { } f) _faults.Add((rid, iova, f));
        return t;
    }

    protected override void CollectTables(int rid, bool withPages, List<HardwareTable> found)
    {
        var (w0, root, ok) = Fetch(rid);
        if (!ok || (w0 & V) == 0 || ((w0 >> KindShift) & 3) != KindTranslate) return;
        if (!_walkers.TryGetValue(root, out var walker)) _walkers[root] = walker = MockPgtable.ForWalk(Platform.Allocator, root);
        found.Add(new(TranslationSource.FreshWalk, (int)(w0 >> DomainShift), root, withPages ? walker.ReachableTablePages() : []));
    }

    protected override void Peek(int rid, ulong iova, IommuPerm access, List<PossibleTranslation> found) =>
        found.Add(new(TranslationSource.FreshWalk, Resolve(rid, iova, access, count: false)));
}
