using System.Collections.Immutable;
using IommuConformance.Implementations.Dma;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Iova;

namespace IommuConformance.Implementations;

/// <summary>
/// Read-only views of the DMA layer's IOVA domains for the harness's IOVA invariants (kernel-semantics c.13–c.19):
/// one <see cref="IovaDomainSnapshot"/> per DMA domain whose IOVA domain is initialised, with the DMA API's live
/// mappings (dma-debug's entries) and the flush queues beside the tree and the range caches.
/// </summary>
public sealed partial class IommuSystem
{
    /// <summary>The ids of live domains with an initialised IOVA domain.</summary>
    public IEnumerable<int> IovaDomainIds() =>
        _core.LiveDomains().Where(d => d.IovaCookie is { Iovad: not null }).Select(d => d.Id);

    /// <summary>The IOVA domain of a live DMA domain, or null when it has none (or is not live).</summary>
    public IovaDomainSnapshot? SnapshotIova(int domainId)
    {
        if (_core.FindDomain(domainId) is not PagingDomain domain || domain.IovaCookie is not { Iovad: { } iovad } cookie) return null;
        var shift = iovad.IovaShift;
        var mapped = ImmutableArray.CreateBuilder<IovaMapped>();
        foreach (var ((dev, addr), entry) in _dmaDebug)
        {
            if (entry.DomainId != domainId) continue;
            var off = addr & (iovad.Granule - 1);
            var pages = (entry.Size + off + iovad.Granule - 1) >> shift;
            mapped.Add(new IovaMapped(dev, (addr - off) >> shift, pages));
        }
        var queued = ImmutableArray.CreateBuilder<IovaQueued>();
        for (var q = 0; q < (cookie.Fq?.Length ?? 0); q++)
            foreach (var e in cookie.Fq![q].Queued()) queued.Add(new IovaQueued(q, e.IovaPfn, e.Pages, e.Counter));
        var aperture = domain.Pgtable.Ias >= 64 ? ulong.MaxValue : (1UL << domain.Pgtable.Ias) - 1;
        return new IovaDomainSnapshot(domainId, iovad.StartPfn, aperture >> shift, [.. iovad.Nodes()],
            [.. IommuDma.ReservedRegions(domain.Driver).Except(cookie.FailedReservations).Select(r => (r.Start >> shift, r.Last >> shift))],
            mapped.ToImmutable(), queued.ToImmutable(), cookie.FqFlushStartCnt, cookie.FqFlushFinishCnt,
            iovad.HasRcaches, [.. iovad.Bins()]);
    }
    private long _framesAtBuild;

    // The frames a driver keeps for the machine's life once made (VT-d legacy's context tables).
    private Func<int> _keptFrames = () => 0;

    /// <summary>The table frames the drivers keep for the machine's life once made (a legacy VT-d unit's context table): a teardown leaves them.</summary>
    public int KeptFrames => _keptFrames();

    /// <summary>
    /// The teardown that ends every property trace (kernel-semantics c.19, "after domain free, everything is gone"):
    /// release every device, free every live domain handle, exit every live mm, then everything the DMA layer allocated must have come back —
    /// no IOVA cookie (a freed one whose flush-queue timer is still pending counts), no IOVA domain that was never put,
    /// no IOVA node or magazine of any IOVA domain, and exactly the table frames the machine was built with (and those a
    /// driver keeps for the machine's life once made: VT-d legacy's context tables). Answers
    /// what did not come back, or null.
    /// </summary>
    public string? TearDownAndAudit()
    {
        foreach (var dev in _devices) Execute(new Contract.Release(dev.Name));
        foreach (var name in _handles.LiveNames()) Execute(new Contract.DomainFree(name));
        foreach (var mm in _sva.LiveMmNames()) Execute(new Contract.MmExit(mm));   // a live mm keeps its CPU page table
        var dma = _core.Dma;
        if (dma.Cookies.Count != 0)
            return $"{dma.Cookies.Count} IOVA cookie(s) left after teardown ({dma.Cookies.Count(c => c.FqTimerDueMs is not null)} with a pending flush-queue timer)";
        if (dma.LiveIovaDomains.Count != 0)
            return $"{dma.LiveIovaDomains.Count} IOVA domain(s) never put after teardown ({dma.LiveIovaDomains.Sum(d => d.LiveMagazines)} magazines, "
                + $"{dma.LiveIovaDomains.Sum(d => d.LiveIovaMem)} IOVA nodes)";
        if (dma.AllIovaDomains.FirstOrDefault(d => d.LiveMagazines != 0 || d.LiveIovaMem != 0) is { } leaky)
            return $"an IOVA domain was put with {leaky.LiveMagazines} magazines and {leaky.LiveIovaMem} IOVA nodes still allocated";
        if (LiveFrames != _framesAtBuild + KeptFrames) return $"{LiveFrames - _framesAtBuild - KeptFrames} table frame(s) left after teardown";
        return null;
    }
}

/// <summary>
/// One DMA domain's IOVA state: start_pfn, the last pfn of the aperture, the tree's nodes (anchor excluded), the
/// reserved ranges its devices report (but those whose reserve_iova() failed: the documented leftover), the DMA API's live mappings, the flush-queue entries with the flush counters,
/// and the range-cache bins (empty without rcaches).
/// </summary>
public sealed record IovaDomainSnapshot(
    int DomainId,
    ulong StartPfn,
    ulong LastPfn,
    ImmutableArray<(ulong PfnLo, ulong PfnHi)> Nodes,
    ImmutableArray<(ulong PfnLo, ulong PfnHi)> Reserved,
    ImmutableArray<IovaMapped> Mapped,
    ImmutableArray<IovaQueued> Queued,
    long FlushStartCnt,
    long FlushFinishCnt,
    bool HasRcaches,
    ImmutableArray<IovaBinView> Bins);

/// <summary>A live DMA API mapping of a device: its first pfn and the pages it maps.</summary>
public sealed record IovaMapped(string Dev, ulong Pfn, ulong Pages);

/// <summary>A flush-queue entry: its queue, range, and the flush start count it was stamped with.</summary>
public sealed record IovaQueued(int Queue, ulong Pfn, ulong Pages, long Counter);
