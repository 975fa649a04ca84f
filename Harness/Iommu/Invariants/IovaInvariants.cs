using System.Numerics;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// The IOVA allocator's invariants (kernel-semantics.md c.13–c.19) on the implementation's IOVA domains: the tree, the
/// range caches (magazines, depot), the flush queues and the DMA API's live mappings, read as one
/// <see cref="IovaDomainSnapshot"/> per DMA domain. c.17 needs history (<see cref="IovaHistory"/>); c.19's "everything
/// comes back" half is the teardown audit at the end of every trace (<c>TeardownCheck</c>). A check answers the first
/// violation as <c>c.N: message</c>, or null.
/// </summary>
public static class IovaInvariants
{
    /// <summary>IOVA_MAG_SIZE.</summary>
    public const int MagSize = 127;

    /// <summary>The ids and statements, in the order they are checked.</summary>
    public static readonly IReadOnlyList<(string Id, string Statement)> All =
    [
        ("c.13", "tree nodes are disjoint and lie in [start_pfn, aperture end]; each live mapping is its own tree node"),
        ("c.14", "a live mapping's IOVA is aligned to roundup_pow_of_two of its allocation"),
        ("c.15", "a pfn is in at most one place (live, queued, one magazine slot), and every queued or cached pfn is a tree node of its size"),
        ("c.16", "depot magazines are full and depot_size counts them; every CPU has both magazines once the rcaches exist"),
        ("c.17", "a queued entry carries the flush start count of its enqueue and leaves its queue only after a flush that started after it finished"),
        ("c.18", "no live, queued or cached range meets a reserved range"),
        ("c.19", "every tree node is a reservation, a live mapping, a queued entry or a cached pfn (nothing leaked)"),
    ];

    /// <summary>The first violation in one IOVA domain, with c.17's history updated for it.</summary>
    public static string? FirstViolation(IovaDomainSnapshot s, IovaHistory history) =>
        Tree(s) ?? Aligned(s) ?? OnePlace(s) ?? Magazines(s) ?? history.Observe(s) ?? Reserved(s) ?? NothingLeaked(s);

    /// <summary>The pages an allocation of <paramref name="pages"/> takes: alloc_iova_fast rounds sizes below 32 up.</summary>
    public static ulong AllocPages(ulong pages) => pages < 32 ? BitOperations.RoundUpToPowerOf2(pages) : pages;

    internal static string? Tree(IovaDomainSnapshot s)
    {
        (ulong Lo, ulong Hi)? prev = null;
        foreach (var n in s.Nodes)
        {
            if (n.PfnHi < n.PfnLo) return $"c.13: {Describe(s)}: node [{n.PfnLo:x}, {n.PfnHi:x}] ends below its start (wrapped)";
            if (!InReserved(s, n.PfnLo, n.PfnHi) && (n.PfnLo < s.StartPfn || n.PfnHi > s.LastPfn))
                return $"c.13: {Describe(s)}: node [{n.PfnLo:x}, {n.PfnHi:x}] lies outside [start_pfn {s.StartPfn:x}, {s.LastPfn:x}]";
            if (prev is { } p && p.Hi >= n.PfnLo)
                return $"c.13: {Describe(s)}: nodes [{p.Lo:x}, {p.Hi:x}] and [{n.PfnLo:x}, {n.PfnHi:x}] overlap";
            prev = (n.PfnLo, n.PfnHi);
        }
        var nodes = NodesByStart(s);
        foreach (var m in s.Mapped)
            if (!nodes.TryGetValue(m.Pfn, out var hi) || hi - m.Pfn + 1 != AllocPages(m.Pages))
                return $"c.13: {Describe(s)}: {m.Dev}'s mapping at pfn {m.Pfn:x} ({m.Pages} pages) is not a tree node of {AllocPages(m.Pages)} pages";
        return null;
    }

    internal static string? Aligned(IovaDomainSnapshot s)
    {
        foreach (var m in s.Mapped)
        {
            var align = BitOperations.RoundUpToPowerOf2(AllocPages(m.Pages));
            if (m.Pfn % align != 0) return $"c.14: {Describe(s)}: {m.Dev}'s mapping at pfn {m.Pfn:x} ({m.Pages} pages) is not aligned to {align} pages";
        }
        return null;
    }

    internal static string? OnePlace(IovaDomainSnapshot s)
    {
        // Where each pfn was seen, as a compact record: the text is made only for a violation (a domain holds up to
        // 6 bins × 2 magazines × CPUs × 127 cached pfns, checked at every step that touches it).
        var where = new Dictionary<ulong, PfnPlace>();
        var nodes = NodesByStart(s);
        string? Place(ulong pfn, ulong pages, PfnPlace place)
        {
            if (where.TryGetValue(pfn, out var other)) return $"c.15: {Describe(s)}: pfn {pfn:x} is {other.Describe(s)} and {place.Describe(s)}";
            where[pfn] = place;
            if (!nodes.TryGetValue(pfn, out var hi)) return $"c.15: {Describe(s)}: pfn {pfn:x} ({place.Describe(s)}) is no tree node";
            if (pages != 0 && hi - pfn + 1 != pages) return $"c.15: {Describe(s)}: pfn {pfn:x} ({place.Describe(s)}) is a node of {hi - pfn + 1} pages, not {pages}";
            return null;
        }
        for (var i = 0; i < s.Mapped.Length; i++)
        {
            var m = s.Mapped[i];
            if (where.TryGetValue(m.Pfn, out var other)) return $"c.15: {Describe(s)}: pfn {m.Pfn:x} is {other.Describe(s)} and mapped by {m.Dev}";
            where[m.Pfn] = new PfnPlace(PlaceKind.Mapped, i, 0);
        }
        foreach (var q in s.Queued)
            if (Place(q.Pfn, AllocPages(q.Pages), new PfnPlace(PlaceKind.Queued, q.Queue, 0)) is { } message) return message;
        foreach (var bin in s.Bins)
        {
            var pages = 1UL << bin.Bin;
            for (var cpu = 0; cpu < bin.Cpus.Count; cpu++)
            {
                foreach (var pfn in bin.Cpus[cpu].Loaded ?? [])
                    if (Place(pfn, pages, new PfnPlace(PlaceKind.Loaded, cpu, bin.Bin)) is { } message) return message;
                foreach (var pfn in bin.Cpus[cpu].Prev ?? [])
                    if (Place(pfn, pages, new PfnPlace(PlaceKind.Prev, cpu, bin.Bin)) is { } message) return message;
            }
            for (var i = 0; i < bin.Depot.Count; i++)
                foreach (var pfn in bin.Depot[i].Pfns)
                    if (Place(pfn, pages, new PfnPlace(PlaceKind.Depot, i, bin.Bin)) is { } message) return message;
        }
        return null;
    }

    private enum PlaceKind : byte { Mapped, Queued, Loaded, Prev, Depot }

    // A: the mapping's index, the queue, the CPU or the depot slot; B: the bin.
    private readonly record struct PfnPlace(PlaceKind Kind, int A, int B)
    {
        public string Describe(IovaDomainSnapshot s) => Kind switch
        {
            PlaceKind.Mapped => $"mapped by {s.Mapped[A].Dev}",
            PlaceKind.Queued => $"queued on queue {A}",
            PlaceKind.Loaded => $"in CPU {A}'s loaded magazine of bin {B}",
            PlaceKind.Prev => $"in CPU {A}'s prev magazine of bin {B}",
            _ => $"in depot magazine {A} of bin {B}",
        };
    }

    internal static string? Magazines(IovaDomainSnapshot s)
    {
        if (!s.HasRcaches) return null;
        foreach (var bin in s.Bins)
        {
            for (var cpu = 0; cpu < bin.Cpus.Count; cpu++)
                if (bin.Cpus[cpu].Loaded is null || bin.Cpus[cpu].Prev is null)
                    return $"c.16: {Describe(s)}: CPU {cpu} of bin {bin.Bin} has a NULL {(bin.Cpus[cpu].Loaded is null ? "loaded" : "prev")} magazine";
            for (var i = 0; i < bin.Depot.Count; i++)
                if (bin.Depot[i].Size != MagSize || bin.Depot[i].Pfns.Count != MagSize)
                    return $"c.16: {Describe(s)}: depot magazine {i} of bin {bin.Bin} holds {bin.Depot[i].Pfns.Count} pfns, not {MagSize}";
            if (bin.DepotSize != bin.Depot.Count)
                return $"c.16: {Describe(s)}: bin {bin.Bin}'s depot_size is {bin.DepotSize} with {bin.Depot.Count} magazines";
        }
        return null;
    }

    internal static string? Reserved(IovaDomainSnapshot s)
    {
        if (s.Reserved.IsEmpty) return null;
        foreach (var m in s.Mapped)
            if (Meets(s, m.Pfn, m.Pfn + AllocPages(m.Pages) - 1) is { } r) return $"c.18: {Describe(s)}: {m.Dev}'s mapping at pfn {m.Pfn:x} meets reserved {r}";
        foreach (var q in s.Queued)
            if (Meets(s, q.Pfn, q.Pfn + AllocPages(q.Pages) - 1) is { } r) return $"c.18: {Describe(s)}: queued pfn {q.Pfn:x} meets reserved {r}";
        foreach (var bin in s.Bins)
            foreach (var pfn in bin.Cpus.SelectMany(c => (c.Loaded ?? []).Concat(c.Prev ?? [])).Concat(bin.Depot.SelectMany(d => d.Pfns)))
                if (Meets(s, pfn, pfn + (1UL << bin.Bin) - 1) is { } r) return $"c.18: {Describe(s)}: cached pfn {pfn:x} meets reserved {r}";
        return null;
    }

    internal static string? NothingLeaked(IovaDomainSnapshot s)
    {
        var owned = Owned(s);
        foreach (var n in s.Nodes)
            if (!owned.Contains(n.PfnLo) && !InReserved(s, n.PfnLo, n.PfnHi))
                return $"c.19: {Describe(s)}: node [{n.PfnLo:x}, {n.PfnHi:x}] is no reservation, mapping, queued entry or cached pfn (leaked)";
        return null;
    }

    // reserve_iova() merges overlapping requests into one node, so a reservation's node covers its range and may be larger
    // only by other reservations: a node is a reservation's when it meets one.
    private static bool InReserved(IovaDomainSnapshot s, ulong lo, ulong hi) => Meets(s, lo, hi) is not null;

    private static string? Meets(IovaDomainSnapshot s, ulong lo, ulong hi)
    {
        foreach (var r in s.Reserved)
            if (r.PfnLo <= hi && lo <= r.PfnHi) return $"[{r.PfnLo:x}, {r.PfnHi:x}]";
        return null;
    }

    private static HashSet<ulong> Owned(IovaDomainSnapshot s)
    {
        var owned = new HashSet<ulong>(s.Nodes.Length);
        foreach (var m in s.Mapped) owned.Add(m.Pfn);
        foreach (var q in s.Queued) owned.Add(q.Pfn);
        foreach (var bin in s.Bins)
        {
            foreach (var cpu in bin.Cpus)
            {
                foreach (var pfn in cpu.Loaded ?? []) owned.Add(pfn);
                foreach (var pfn in cpu.Prev ?? []) owned.Add(pfn);
            }
            foreach (var magazine in bin.Depot)
                foreach (var pfn in magazine.Pfns) owned.Add(pfn);
        }
        return owned;
    }

    private static Dictionary<ulong, ulong> NodesByStart(IovaDomainSnapshot s)
    {
        var nodes = new Dictionary<ulong, ulong>(s.Nodes.Length);
        foreach (var n in s.Nodes) nodes.TryAdd(n.PfnLo, n.PfnHi);
        return nodes;
    }

    private static string Describe(IovaDomainSnapshot s) => $"the IOVA domain of domain #{s.DomainId}";
}

/// <summary>
/// What c.17 remembers between steps: per domain, the flush start count each queued entry was first seen with (its
/// enqueue's, since only <c>dma_unmap</c> queues and nothing starts a flush after the append within that step).
/// </summary>
public sealed class IovaHistory
{
    private readonly Dictionary<int, Dictionary<(int Queue, ulong Pfn), long>> _queued = [];

    /// <summary>Checks c.17 on the domain's queues against what was seen before, then remembers them.</summary>
    public string? Observe(IovaDomainSnapshot s)
    {
        var before = _queued.GetValueOrDefault(s.DomainId);
        var now = new Dictionary<(int, ulong), long>(s.Queued.Length);
        string? problem = null;
        foreach (var q in s.Queued)
        {
            var seen = before is not null && before.TryGetValue((q.Queue, q.Pfn), out var at) ? at : s.FlushStartCnt;
            now[(q.Queue, q.Pfn)] = seen;
            if (problem is null && q.Counter != seen)
                problem = $"c.17: the IOVA domain of domain #{s.DomainId}: pfn {q.Pfn:x} on queue {q.Queue} is stamped {q.Counter}, but the flush start count at its enqueue was {seen}";
        }
        if (before is not null)
            foreach (var ((queue, pfn), at) in before)
                if (problem is null && !now.ContainsKey((queue, pfn)) && s.FlushFinishCnt <= at)
                    problem = $"c.17: the IOVA domain of domain #{s.DomainId}: pfn {pfn:x} left queue {queue} with {s.FlushFinishCnt} flushes finished, "
                        + $"none started after its enqueue (start count {at})";
        _queued[s.DomainId] = now;
        return problem;
    }

    /// <summary>Forgets a domain that is gone.</summary>
    public void Forget(int domainId) => _queued.Remove(domainId);
}
