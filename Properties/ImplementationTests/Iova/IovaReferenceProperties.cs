using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using IommuConformance.Contract;
using IommuConformance.Implementations.Iova;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.IovaAllocator.IovaCase;

namespace IommuConformance.Properties.ImplementationTests.IovaAllocator;

/// <summary>
/// Random allocator traces (reservations at setup, then tree and fast allocations, frees, depot-filling bursts,
/// ticks and flushes on two CPUs, in 512 pfns each side of 4 GiB) against <see cref="IovaReference"/>. Each
/// property checks one claim, so a perturbation of the allocator names the claim it breaks.
/// </summary>
public class IovaReferenceProperties
{
    private const string Seed = "20261202,11";

    [Flags]
    private enum Claim
    {
        NoOverlap = 1, InBounds = 2, SizeAligned = 4, CacheNeverLive = 8, Conserve = 16, Reusable = 32, Complete = 64,
    }

    [Property(MaxTest = 60, Replay = Seed, QuietOnSuccess = true)]
    public Property No_two_held_ranges_overlap_and_none_meets_a_reservation() => Check(Claim.NoOverlap);

    [Property(MaxTest = 60, Replay = Seed, QuietOnSuccess = true)]
    public Property Every_allocation_lies_in_start_pfn_to_its_limit() => Check(Claim.InBounds);

    [Property(MaxTest = 60, Replay = Seed, QuietOnSuccess = true)]
    public Property Fast_and_aligned_allocations_are_aligned_to_roundup_pow_of_two_of_their_size() => Check(Claim.SizeAligned);

    [Property(MaxTest = 60, Replay = Seed, QuietOnSuccess = true)]
    public Property The_rcache_never_hands_out_a_held_range() => Check(Claim.CacheNeverLive);

    [Property(MaxTest = 60, Replay = Seed, QuietOnSuccess = true)]
    public Property Tree_nodes_are_exactly_reservations_held_ranges_and_cached_pfns() => Check(Claim.Conserve);

    [Property(MaxTest = 60, Replay = Seed, QuietOnSuccess = true)]
    public Property Once_everything_is_freed_and_flushed_every_free_pfn_can_be_allocated_again() => Check(Claim.Reusable);

    [Property(MaxTest = 60, Replay = Seed, QuietOnSuccess = true)]
    public Property A_tree_search_above_4G_fails_only_when_no_aligned_slot_is_free() => Check(Claim.Complete);

    private static Property Check(Claim claim) => Prop.ForAll(Arbitrary, (IovaCase c) => Run(c, claim));

    private static void Run(IovaCase c, Claim claim)
    {
        var d = new IovaDomain(4096, Start, Cpus);
        Assert.Equal(Errno.OK, d.InitRcaches());
        var reference = new IovaReference();
        foreach (var (lo, hi) in c.Reserves)
        {
            Assert.NotNull(d.ReserveIova(lo, hi));
            reference.Reserved.Add((lo, hi));
        }
        var reservedNodes = d.Nodes();
        if (claim.HasFlag(Claim.Conserve))
            Assert.Equal(reference.ReservedPfns(), [.. reservedNodes.SelectMany(n => Pfns(n.PfnLo, n.PfnHi))]);

        foreach (var op in c.Ops)
        {
            Apply(d, reference, op, claim);
            if (claim.HasFlag(Claim.Conserve)) Conserved(d, reference, reservedNodes);
        }
        if (claim.HasFlag(Claim.Reusable)) Reusable(d, reference, reservedNodes);
    }

    private static void Apply(IovaDomain d, IovaReference reference, IovaOp op, Claim claim)
    {
        switch (op)
        {
            case AllocOp a:
                Alloc(d, reference, a, claim);
                break;
            case FreeOp f when reference.Live.Count > 0:
                Free(d, reference, reference.Live[f.Pick % reference.Live.Count], f.Cpu);
                break;
            case FillOp fill:
                var fillOp = new AllocOp(fill.Fast, fill.Cpu, fill.Size, fill.High, true, fill.Flush);
                for (ulong i = 0; i <= Limit64 - Start && Alloc(d, reference, fillOp, claim) is not null; i++) { }
                break;
            case FreeSomeOp some:
                foreach (var h in reference.Live.Where((_, i) => i % some.Stride == 0).ToArray()) Free(d, reference, h, some.Cpu);
                break;
            case BurstOp b:
                var got = new List<IovaReference.Held>();
                for (var i = 0; i < b.Count; i++)
                    if (Alloc(d, reference, new AllocOp(true, b.Cpu, 1, b.High, true, true), claim) is { } h) got.Add(h);
                foreach (var h in got)
                {
                    reference.Live.Remove(h);
                    d.FreeIovaFast(b.FreeCpu, h.Pfn, 1);
                }
                break;
            case TickOp t:
                Assert.Equal(Errno.OK, d.Tick(t.Ms));
                break;
            case FlushCpuOp fc:
                d.FreeCpuCachedIovas(fc.Cpu);
                break;
            case FlushGlobalOp:
                d.FreeGlobalCachedIovas();
                break;
        }
    }

    private static void Free(IovaDomain d, IovaReference reference, IovaReference.Held held, int cpu)
    {
        reference.Live.Remove(held);
        if (held.Fast) d.FreeIovaFast(cpu, held.Pfn, held.FreeSize);
        else d.FreeIova(held.Pfn);
    }

    private static IovaReference.Held? Alloc(IovaDomain d, IovaReference reference, AllocOp a, Claim claim)
    {
        var limit = a.High ? Limit64 : Limit32;
        var nodesBefore = d.LiveIovaMem;
        ulong pfn, nodeSize;
        if (a.Fast)
        {
            pfn = d.AllocIovaFast(a.Cpu, a.Size, limit, a.Flush);
            if (pfn == 0) return null;
            nodeSize = a.Size < 32 ? IovaReference.RoundupPowOfTwo(a.Size) : a.Size;
        }
        else
        {
            if (d.AllocIova(a.Size, limit, a.Aligned) is not { } node)
            {
                // No max32_alloc_size shortcut above 4 GiB: the walk below the cached node and the retry above it
                // between them see every gap, so a failure means there is no room at all.
                if (claim.HasFlag(Claim.Complete) && a.High)
                    Assert.True(FreeSlot(d, a.Size, a.Aligned, limit) is null, $"{a} failed, yet a slot is free");
                return null;
            }
            (pfn, nodeSize) = (node.PfnLo, a.Size);
        }
        var last = pfn + nodeSize - 1;

        if (claim.HasFlag(Claim.InBounds))
            Assert.True(pfn >= Start && last <= limit && last >= pfn, $"{a} → [0x{pfn:x}, 0x{last:x}] outside [0x{Start:x}, 0x{limit:x}]");
        if (claim.HasFlag(Claim.SizeAligned) && (a.Fast || a.Aligned))
            Assert.True(pfn % IovaReference.RoundupPowOfTwo(a.Size) == 0, $"{a} → 0x{pfn:x} is not aligned");
        if (claim.HasFlag(Claim.NoOverlap))
            Assert.False(reference.Overlaps(pfn, last), $"{a} → [0x{pfn:x}, 0x{last:x}] overlaps a held or reserved range");
        if (claim.HasFlag(Claim.CacheNeverLive) && a.Fast && d.LiveIovaMem == nodesBefore)   // no new node: a cache hit
            Assert.False(reference.Overlaps(pfn, last), $"{a} → the rcache handed out 0x{pfn:x}, which is held or reserved");

        var held = new IovaReference.Held(pfn, nodeSize, a.Size, a.Fast);
        reference.Live.Add(held);
        return held;
    }

    // c.13 / c.15 / c.16: the tree holds the reservations, the held ranges and one node per cached pfn, nothing else;
    // depot magazines are full and depot_size is the list's length.
    private static void Conserved(IovaDomain d, IovaReference reference, IReadOnlyList<(ulong PfnLo, ulong PfnHi)> reservedNodes)
    {
        var expected = reservedNodes
            .Concat(reference.Live.Select(h => (h.Pfn, h.Last)))
            .Concat(d.CachedPfns().Select(c => (c.Pfn, c.Pfn + (1UL << c.Bin) - 1)))
            .Order().ToArray();
        Assert.Equal(expected, d.Nodes());
        Assert.Equal(expected.Length, d.LiveIovaMem);
        foreach (var bin in d.Bins())
        {
            Assert.Equal(bin.Depot.Count, bin.DepotSize);
            Assert.All(bin.Depot, m => Assert.Equal(IovaMagazine.IovaMagSize, m.Size));
        }
    }

    // c.19 and reuse: free what is held, flush every cache, then the tree is the reservations again and a refill of
    // single granules gets exactly every unreserved pfn back; put_iova_domain then leaves nothing behind.
    private static void Reusable(IovaDomain d, IovaReference reference, IReadOnlyList<(ulong PfnLo, ulong PfnHi)> reservedNodes)
    {
        foreach (var held in reference.Live)
            if (held.Fast) d.FreeIovaFast(0, held.Pfn, held.FreeSize);
            else d.FreeIova(held.Pfn);
        reference.Live.Clear();
        for (var cpu = 0; cpu < Cpus; cpu++) d.FreeCpuCachedIovas(cpu);
        d.FreeGlobalCachedIovas();
        Assert.Equal(reservedNodes, d.Nodes());

        var free = reference.Unreserved(Start, Limit64);
        for (ulong i = 0; i < free; i++)
            Assert.True(d.AllocIova(1, Limit64, false) is not null, $"refill failed after {i} of {free} free pfns");
        Assert.Null(d.AllocIova(1, Limit64, false));
        d.PutIovaDomain();
        Assert.Equal((0L, 0L), (d.LiveIovaMem, d.LiveMagazines));
    }

    // The lowest aligned slot of size pfns in [Start, limit] that no tree node covers, by brute force.
    private static ulong? FreeSlot(IovaDomain d, ulong size, bool aligned, ulong limit)
    {
        var used = new bool[limit - Start + 1];
        foreach (var (lo, hi) in d.Nodes())
            for (var p = Math.Max(lo, Start); p <= Math.Min(hi, limit); p++) used[p - Start] = true;
        var align = aligned ? IovaReference.RoundupPowOfTwo(size) : 1;
        for (var p = (Start + align - 1) / align * align; p + size - 1 <= limit; p += align)
            if (!Pfns(p, p + size - 1).Any(q => used[q - Start])) return p;
        return null;
    }

    private static IEnumerable<ulong> Pfns(ulong lo, ulong hi)
    {
        for (var p = lo; p <= hi; p++) yield return p;
    }
}
