using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Invariants;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Iova;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The IOVA invariants c.13–c.19 on the implementation's IOVA domains can fail: each on the seeded bug that breaks it,
/// with the invariants alone (no outcome check, so the model does not catch it first); c.17's second half and c.18,
/// which no seeded bug reaches (docs/dma.md), on snapshots broken by hand. Every bug trace is conformant without its bug
/// (SampleReplayTests).
/// </summary>
public class IovaInvariantTests
{
    public static TheoryData<string, string> Bugs() => new()
    {
        { "c.13", "alloc_iova_no_overflow_guard" },
        { "c.14", "fast_alloc_unaligned" },
        { "c.15", "fq_queued_and_freed" },
        { "c.16", "magazine_use_after_failed_alloc" },
        { "c.17", "fq_free_before_flush" },
        { "c.19", "no_cookie_mutex" },
        { "c.19", "fq_timer_after_free" },
    };

    [Theory]
    [MemberData(nameof(Bugs))]
    public void The_invariant_fails_on_its_seeded_bug(string id, string bug)
    {
        var trace = TraceJson.ReadFile(Path.Combine(SampleFiles.Root, "bugs", bug + ".json"));
        // The sample's last two steps (release, tick) reach the timer's oops; before them the teardown finds the pending timer.
        if (bug == "fq_timer_after_free") trace = trace.WithSteps(trace.Steps.Take(3));
        var report = Executor.Run(trace, ExecutorChecks.Invariants | ExecutorChecks.Teardown);
        Assert.Equal(ProblemKind.Invariant, report.Problem?.Kind);
        Assert.StartsWith(id + ":", report.Problem!.Message);
    }

    private static IovaDomainSnapshot Good() => new(3, 1, 0xf_ffff_ffff,
        [(0xfee00, 0xfeeff), (0xffffc, 0xffffc), (0xffffe, 0xfffff)], [(0xfee00, 0xfeeff)],
        [new IovaMapped("dev0", 0xffffe, 2)], [new IovaQueued(0, 0xffffc, 1, 0)], 0, 0, false, []);

    [Fact]
    public void A_good_snapshot_holds_and_its_queued_entry_may_leave_after_a_flush()
    {
        var good = Good();
        var history = new IovaHistory();
        Assert.Null(IovaInvariants.FirstViolation(good, history));
        var flushed = good with { Nodes = [(0xfee00, 0xfeeff), (0xffffe, 0xfffff)], Queued = [], FlushStartCnt = 1, FlushFinishCnt = 1 };
        Assert.Null(IovaInvariants.FirstViolation(flushed, history));
    }

    [Fact]
    public void An_entry_leaving_its_queue_before_a_flush_finished_breaks_c17()
    {
        var good = Good();
        var history = new IovaHistory();
        Assert.Null(IovaInvariants.FirstViolation(good, history));
        var early = good with { Nodes = [(0xfee00, 0xfeeff), (0xffffe, 0xfffff)], Queued = [], FlushStartCnt = 1, FlushFinishCnt = 0 };
        Assert.StartsWith("c.17:", IovaInvariants.FirstViolation(early, history));
    }

    [Fact]
    public void A_mapping_in_a_reserved_range_breaks_c18()
    {
        // the window is reported and was never reserved (no node, no failed reserve_iova), and a mapping landed in it
        var s = Good() with
        {
            Nodes = [(0xfee10, 0xfee10), (0xffffe, 0xfffff)], Queued = [],
            Mapped = [new IovaMapped("dev0", 0xffffe, 2), new IovaMapped("dev0", 0xfee10, 1)],
        };
        Assert.StartsWith("c.18:", IovaInvariants.FirstViolation(s, new IovaHistory()));
        // a reservation that failed is not reported (the documented leftover): the same state holds
        Assert.Null(IovaInvariants.FirstViolation(s with { Reserved = [] }, new IovaHistory()));
    }

    [Fact]
    public void A_node_nothing_owns_breaks_c19()
    {
        var s = Good() with { Nodes = [(0x10, 0x10), (0xfee00, 0xfeeff), (0xffffc, 0xffffc), (0xffffe, 0xfffff)] };
        Assert.StartsWith("c.19:", IovaInvariants.FirstViolation(s, new IovaHistory()));
    }

    [Fact]
    public void A_short_depot_magazine_breaks_c16()
    {
        var pfns = Enumerable.Range(0, 126).Select(i => (ulong)i + 0x100).ToList();
        var bin = new IovaBinView(0, [new IovaCpuCacheView([], [])], [new IovaDepotMagazineView(126, pfns)], 1, null);
        var s = Good() with { Nodes = [.. pfns.Select(p => (p, p)), .. Good().Nodes], HasRcaches = true, Bins = [bin] };
        Assert.StartsWith("c.16:", IovaInvariants.FirstViolation(s, new IovaHistory()));
        var full = pfns.Append(0x200UL).ToList();
        var good = s with { Nodes = [.. full.Select(p => (p, p)), .. Good().Nodes], Bins = [bin with { Depot = [new IovaDepotMagazineView(127, full)] }] };
        Assert.Null(IovaInvariants.FirstViolation(good, new IovaHistory()));
    }

    [Fact]
    public void A_pfn_in_two_places_breaks_c15_naming_both()
    {
        // mapped by dev0 and queued: the message names both places
        var twice = Good() with { Queued = [new IovaQueued(0, 0xffffe, 2, 0)] };
        Assert.Equal("c.15: the IOVA domain of domain #3: pfn ffffe is mapped by dev0 and queued on queue 0",
            IovaInvariants.FirstViolation(twice, new IovaHistory()));
        // queued and in CPU 1's prev magazine of bin 0
        var bin = new IovaBinView(0, [new IovaCpuCacheView([], []), new IovaCpuCacheView([], [0xffffc])], [], 0, null);
        var cached = Good() with { HasRcaches = true, Bins = [bin] };
        Assert.Equal("c.15: the IOVA domain of domain #3: pfn ffffc is queued on queue 0 and in CPU 1's prev magazine of bin 0",
            IovaInvariants.FirstViolation(cached, new IovaHistory()));
        // in a depot magazine only, but no tree node of its size
        var depot = new IovaBinView(1, [new IovaCpuCacheView([], [])], [new IovaDepotMagazineView(127, [0x400])], 1, null);
        Assert.StartsWith("c.15: the IOVA domain of domain #3: pfn 400 (in depot magazine 0 of bin 1) is no tree node",
            IovaInvariants.FirstViolation(Good() with { Bins = [depot] }, new IovaHistory()));
    }

    [Fact]
    public void Wrapped_and_overlapping_nodes_break_c13()
    {
        Assert.StartsWith("c.13:", IovaInvariants.FirstViolation(Good() with { Nodes = [(0xfee00, 0xfeeff), (0xfffff, 0xffffc)] }, new IovaHistory()));
        Assert.StartsWith("c.13:", IovaInvariants.FirstViolation(Good() with { Nodes = [(0xfee00, 0xfeeff), (0xffffc, 0xfffff), (0xffffd, 0xffffd)] }, new IovaHistory()));
    }

    [Fact]
    public void The_ids_are_those_of_kernel_semantics()
    {
        Assert.Equal(["c.13", "c.14", "c.15", "c.16", "c.17", "c.18", "c.19"], IovaInvariants.All.Select(i => i.Id));
        Assert.Equal(127, IovaInvariants.MagSize);
    }
}
