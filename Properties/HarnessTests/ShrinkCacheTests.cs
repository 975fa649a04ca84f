using IommuConformance.Properties.Support;
using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations.Bugs;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The shrink cache never changes an answer: along FsCheck's greedy shrink loop, every candidate's report from the
/// cache (memoised, assembled from known-good steps, or run with its known-good prefix unchecked) is the report of
/// a plain full-mode run, step by step. Each bug compares candidates until they add up to
/// <see cref="StepsPerTrace"/> steps per failing trace: the core bugs' short traces stay within it for their whole shrink, the hardware
/// bugs' long ones (every comparison replays them twice with the isolation checks) stop there.
/// </summary>
public sealed class ShrinkCacheTests
{
    private const int StepsPerTrace = 1_000;

    public static TheoryData<string> Bugs() => [.. BugCatalogue.All.Select(b => b.Name)];

    [Theory]
    [MemberData(nameof(Bugs))]
    [Trait("Category", TestCategories.BugHunt)]
    public void Cached_candidate_reports_are_full_mode_reports(string bug)
    {
        // The cheap run finds them; each shrink step below is compared in full mode. A rare shape (range_tlbi_ttl_num_scale_zero's
        // 2M table and a page past it) may need more than one batch of 60: up to eight, seeds 29, 30, ...
        var failing = Enumerable.Range(0, 8)
            .SelectMany(k => Gen.Sample(TraceGen.Trace(HuntSettings.For(bug)), 60, new Rnd(29 + (ulong)k, 0x9E3779B97F4A7C15UL), 2000))
            .Where(t => !Executor.Run(t).Conformant).Take(3).ToList();
        Assert.NotEmpty(failing);
        var compared = 0;
        foreach (var trace in failing)
        {
            var steps = 0;
            var cache = new ShrinkCache<Trace>((t, knownGood) => Executor.RunFullAfter(t, knownGood));
            var current = trace;
            var report = cache.Run(current)!;
            for (var round = 0; round < 40 && !report.Conformant && steps < StepsPerTrace; round++)
            {
                RunReport? next = null;
                foreach (var candidate in TraceShrinker.Shrink(current, report.Steps.Length).Take(150).TakeWhile(_ => steps < StepsPerTrace))
                {
                    var cached = cache.Run(candidate)!;
                    AssertSame(Executor.RunFull(candidate), cached);
                    (steps, compared) = (steps + candidate.Steps.Length, compared + 1);
                    if (!cached.Conformant)
                    {
                        (current, next) = (candidate, cached);
                        break;
                    }
                }
                if (next is null) break;
                report = next;
            }
        }
        Assert.True(compared >= failing.Count, $"{bug}: compared {compared} candidates of {failing.Count} failing traces");
    }

    [Fact]
    public void A_hunt_shrinks_with_memo_hits_all_known_candidates_and_unchecked_prefixes()
    {
        var result = PropertyCheck.Hunt(BugCatalogue.NoOwnerGatekeeper, CheckSettings.Default);
        var stats = result.Shrinking;
        // Known (a candidate answered from the trie alone) needs a passing run that ended where the candidate ends: since the
        // teardown audit runs after a trace's last step, a prefix of a passing run is run again from its last step.
        Assert.True(stats is { Memoised: > 0, StepsUnchecked: > 0 }, stats.ToString());
        Assert.True(stats.Candidates > result.Shrinks, stats.ToString());
    }

    [Fact]
    public void Known_good_steps_are_the_common_prefix_with_a_run_bounded_by_what_it_passed()
    {
        var cache = new ShrinkCache<ToyCase>((c, _) => null);
        var run = ToyCase.Of(new ToyOpen("b1"), new ToyUse("b1"), new ToyClose("b1"), new ToyUse("b1"));
        cache.RecordFull(run, Report(run, passed: 2));
        Assert.Equal(2, cache.KnownGoodSteps(run));
        Assert.Equal(1, cache.KnownGoodSteps(ToyCase.Of(new ToyOpen("b1"), new ToyClose("b1"))));
        Assert.Equal(2, cache.KnownGoodSteps(run.WithSteps(run.Steps.Take(2))));
        Assert.Equal(0, cache.KnownGoodSteps(run with { Machine = "another machine" }));
        Assert.Equal(0, cache.KnownGoodSteps(ToyCase.Of(new ToyOpen("b2"), new ToyUse("b1"))));
    }

    [Fact]
    public void Only_a_case_ending_where_a_passing_run_ended_is_answered_without_running()
    {
        var runs = new List<int>();
        var cache = new ShrinkCache<ToyCase>((c, knownGood) =>
        {
            runs.Add(knownGood);
            return Passed(c);
        });
        var run = ToyCase.Of(new ToyOpen("b1"), new ToyUse("b1"), new ToyClose("b1"));
        cache.RecordFull(run, Passed(run));
        Assert.True(cache.Run(run)!.Conformant);   // the same steps: from the trie
        Assert.Empty(runs);
        Assert.Equal(1, cache.Stats.Known);
        // A prefix passed its steps but not its own end (checks after the last step): its last step runs again.
        Assert.True(cache.Run(run.WithSteps(run.Steps.Take(2)))!.Conformant);
        Assert.Equal([1], runs);
    }

    private static RunReport<ToyCase> Passed(ToyCase c) => new(c,
        [.. c.Steps.Select((s, i) => new StepReport(i, s.Op, Contract.Outcome.Ok, Contract.Outcome.Ok, null))], Verdict.Conformant, null);

    /// <summary>A report that passed <paramref name="passed"/> steps and failed the next.</summary>
    private static RunReport<ToyCase> Report(ToyCase c, int passed) => new(c,
        [.. c.Steps.Take(passed + 1).Select((s, i) => new StepReport(i, s.Op, Contract.Outcome.Ok, Contract.Outcome.Ok,
            i == passed ? new Problem(ProblemKind.Divergence, "toy", "failed") : null))],
        Verdict.Diverged, new Problem(ProblemKind.Divergence, "toy", "failed"));

    private static void AssertSame(RunReport full, RunReport cached)
    {
        Assert.Equal(full.Verdict, cached.Verdict);
        Assert.Equal(full.Problem?.Message, cached.Problem?.Message);
        Assert.Equal(full.Steps.Length, cached.Steps.Length);
        for (var i = 0; i < full.Steps.Length; i++)
            Assert.Equal((full.Steps[i].Op, full.Steps[i].ModelOutcome, full.Steps[i].ImplOutcome, full.Steps[i].Problem?.Message),
                (cached.Steps[i].Op, cached.Steps[i].ModelOutcome, cached.Steps[i].ImplOutcome, cached.Steps[i].Problem?.Message));
    }
}
