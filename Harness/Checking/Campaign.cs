using System.Collections.Immutable;
using System.Diagnostics;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Invariants;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Checking;

/// <summary>
/// A conformance campaign: generated traces run on model and implementation (the default checks: outcomes,
/// invariants, observations), one by one, each from its own seed (<see cref="TraceSeeds"/>), so that a campaign can be
/// boxed by count or time and split into shards whose results merge into the unsharded figures. Unlike a property
/// run it goes on after a failure: every failing trace is counted, the first <see cref="CampaignPlan.MaxShrunk"/> are
/// shrunk (<see cref="FailureShrink"/>).
/// </summary>
public static class Campaign
{
    /// <summary>
    /// Runs <paramref name="plan"/>; <paramref name="progress"/> is told after every trace; <paramref name="clock"/>
    /// (the time since the start; a stopwatch by default) decides the time box, so tests can box by a fake clock.
    /// </summary>
    public static CampaignResult Run(CampaignPlan plan, Action<CampaignProgress>? progress = null, Func<TimeSpan>? clock = null)
    {
        var watch = Stopwatch.StartNew();
        clock ??= () => watch.Elapsed;
        var generation = TraceGenSettings.Default with { Bugs = plan.Bugs, MemoryOps = plan.MemoryOps };
        var end = plan.Traces ?? CampaignPlan.Unbounded;
        var expected = plan.Traces is { } total ? ShareOf(total, plan.Shard) : (long?)null;
        var coverage = new Tally();
        var invariants = new Tally();
        var scenarios = new Tally();
        var failing = ImmutableArray.CreateBuilder<long>();
        var shrunk = ImmutableArray.CreateBuilder<ShrunkTrace>();
        long traces = 0, steps = 0;
        for (long k = plan.Shard.Index - 1; k < end; k += plan.Shard.Count)
        {
            // At least one trace; then the time box is looked at between traces.
            if (traces > 0 && plan.Duration is { } box && clock() >= box) break;
            var trace = TraceGen.Build(generation, TraceSeeds.Seed(plan.Seed, plan.Gamma, k), TraceSeeds.Size(k, plan.EndSize));
            var before = InvariantCounts.Snapshot();
            var report = Executor.Run(trace);
            CountInvariants(invariants, before, InvariantCounts.Snapshot());
            CampaignScenarios.Count(scenarios, trace);
            foreach (var step in report.Steps) coverage.Add(step.Op.Name, OutcomeCatalogue.Key(step.ModelOutcome));
            traces++;
            steps += report.Steps.Length;
            if (!report.Conformant)
            {
                failing.Add(k);
                if (shrunk.Count < plan.MaxShrunk)
                {
                    shrunk.Add(FailureShrink.Shrink(trace, report, Title(plan, k), plan) with { TraceNumber = k });
                }
            }
            progress?.Invoke(new CampaignProgress(traces, steps, failing.Count, clock(), expected, plan.Duration));
        }
        return new CampaignResult(plan, [plan.Shard], traces, steps, failing.ToImmutable(), coverage, invariants,
            scenarios, shrunk.ToImmutable(), watch.Elapsed);
    }

    /// <summary>How many of the first <paramref name="traces"/> trace numbers belong to <paramref name="shard"/>.</summary>
    public static long ShareOf(long traces, Shard shard) =>
        traces <= shard.Index - 1 ? 0 : (traces - shard.Index + shard.Count) / shard.Count;

    /// <summary>The title of a saved failure: where it came from, enough to regenerate it.</summary>
    public static string Title(CampaignPlan plan, long k) =>
        $"campaign {plan.Seed},{plan.Gamma} trace {k}" + (plan.Bugs.IsEmpty ? "" : $" with {string.Join(", ", plan.Bugs)}") + ", shrunk";

    private static void CountInvariants(Tally tally, long[] before, long[] after)
    {
        var invariants = StructuralInvariants.All.Count;
        for (var i = 0; i < after.Length; i++)
            if (after[i] > before[i])
                tally.Add(i < invariants ? CampaignResult.InvariantRow : CampaignResult.ScopeRow,
                    i < invariants ? StructuralInvariants.All[i].Id : InvariantCounts.ScopeKinds[i - invariants], after[i] - before[i]);
    }
}
