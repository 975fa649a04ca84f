using System.Collections.Immutable;

namespace IommuConformance.Model.State;

/// <summary>
/// One live DMA mapping of a DMA default domain: the DMA address handed out (<see cref="Addr"/>, with the offset into
/// the first granule), the IOVA range allocated for it (<see cref="Iova"/>, <see cref="Alloc"/> bytes: rounded up to a
/// power of two below 32 granules), the bytes mapped (<see cref="Len"/>).
/// </summary>
public sealed record DmaMapping(string Dev, ulong Addr, ulong Iova, ulong Alloc, ulong Len);

/// <summary>An unmapped range in a flush queue: freed once a flush that started after <see cref="Counter"/> finished.</summary>
public sealed record FqEntry(ulong Iova, ulong Alloc, ulong Len, ulong Paddr, int Prot, long Counter);

/// <summary>
/// The DMA API's view of one group's DMA default domain (its IOVA cookie): initialised or not, lazy (flush queue up)
/// or strict, the live mappings and their page-table image, the flush queues with their counters and timer, and the
/// reserved ranges. <see cref="Gen"/> names the domain instance (a new default domain is a new generation).
/// </summary>
public sealed record GroupDma(long Gen, bool Initialised, bool Lazy, bool SingleQueue, int FqSize, long TimeoutMs,
    ImmutableList<DmaMapping> Live, DomainMappings Mappings, ImmutableArray<ImmutableList<FqEntry>> Queues,
    long StartCnt, long FinishCnt, long? TimerDue, ImmutableList<(ulong Start, ulong Last)> Reserved)
{
    public bool Equals(GroupDma? o) =>
        o is not null && Gen == o.Gen && Initialised == o.Initialised && Lazy == o.Lazy && SingleQueue == o.SingleQueue
        && Live.SequenceEqual(o.Live) && Mappings.Equals(o.Mappings) && StartCnt == o.StartCnt && FinishCnt == o.FinishCnt
        && TimerDue == o.TimerDue && Reserved.SequenceEqual(o.Reserved)
        && Queues.Length == o.Queues.Length && Queues.Zip(o.Queues).All(p => p.First.SequenceEqual(p.Second));

    public override int GetHashCode() => HashCode.Combine(Gen, Initialised, Lazy, Live.Count, StartCnt, TimerDue);
}

/// <summary>A device's DMA API state: iommu DMA ops (dev->dma_iommu) and the armed 32-bit-first workaround.</summary>
public sealed record DevDma(bool DmaIommu, bool Workaround, bool SetupRan);

/// <summary>A dma-debug entry: a mapping the driver may unmap (size and direction as mapped; domain generation, 0 for dma-direct).</summary>
public sealed record DebugEntry(ulong Size, string Dir, long Gen);

/// <summary>The DMA API part of the model's state (docs/dma.md).</summary>
public sealed record ModelDma(
    ImmutableSortedDictionary<string, GroupDma> Groups,
    ImmutableSortedDictionary<string, DevDma> Devices,
    ImmutableSortedDictionary<string, ulong> Names,
    ImmutableSortedDictionary<(string Dev, ulong Addr), DebugEntry> Debug,
    long Now, long NextGen, ulong FaultN)
{
    /// <summary>A fail_nth is armed and not met yet; <see cref="FaultN"/> is its n (0 when none is): the failure meets at most the n-th allocation.</summary>
    public bool FaultPending => FaultN != 0;

    // By device (ordinal), then address: an order that is the same in every process (a hash order of strings is not,
    // and the generator picks among the entries in this order). Declared before Empty, which uses it.
    private static readonly IComparer<(string Dev, ulong Addr)> DebugOrder = Comparer<(string Dev, ulong Addr)>.Create((a, b) =>
        string.CompareOrdinal(a.Dev, b.Dev) is var byDev and not 0 ? byDev : a.Addr.CompareTo(b.Addr));

    public static readonly ModelDma Empty = new(
        ImmutableSortedDictionary<string, GroupDma>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableSortedDictionary<string, DevDma>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableSortedDictionary<string, ulong>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableSortedDictionary<(string, ulong), DebugEntry>.Empty.WithComparers(DebugOrder), 0, 1, 0);

    public bool Equals(ModelDma? o) =>
        o is not null && Now == o.Now && NextGen == o.NextGen && FaultN == o.FaultN
        && Groups.Count == o.Groups.Count && Groups.All(g => o.Groups.TryGetValue(g.Key, out var x) && g.Value.Equals(x))
        && Devices.SequenceEqual(o.Devices) && Names.SequenceEqual(o.Names)
        && Debug.Count == o.Debug.Count && Debug.All(d => o.Debug.TryGetValue(d.Key, out var x) && d.Value == x);

    public override int GetHashCode() => HashCode.Combine(Now, NextGen, Groups.Count, Names.Count, FaultN);
}
