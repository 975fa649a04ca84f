using System.Collections.Immutable;

namespace IommuConformance.Harness.Checking;

/// <summary>
/// One shrunk failure of a campaign: the number of the generated trace it came from, its length before and after
/// shrinking, the steps shrinking executed, the problem, and the shrunk trace as JSON with the model's outcomes as expects (replayable).
/// <see cref="Report"/> is the shrunk run itself when this process shrank it (null once read back from JSON).
/// </summary>
public sealed record ShrunkTrace(long TraceNumber, int FirstSteps, int Steps, long ShrinkSteps, string Problem, string Json)
{
    public RunReport? Report { get; init; }
}

/// <summary>Where a running campaign is; <see cref="Expected"/> is this shard's share of a count box, if any.</summary>
public sealed record CampaignProgress(long Traces, long Steps, long Failures, TimeSpan Elapsed, long? Expected, TimeSpan? Duration);

/// <summary>
/// What a campaign (or the merge of all its shards) found. Every figure but <see cref="Elapsed"/> is a function of
/// the plan and the traces run, so the shards of a campaign merge into exactly the unsharded figures.
/// </summary>
/// <param name="Shards">The shards this result covers (one for a single run, all of them after a merge).</param>
/// <param name="Traces">Generated traces run.</param>
/// <param name="Steps">Steps of those traces executed with their checks (a failing trace stops at its failing step).</param>
/// <param name="Failing">Numbers of the generated traces that failed, ascending.</param>
/// <param name="Coverage">Operation × outcome (<c>OutcomeCatalogue.Key</c> of the model's answer) over every executed step.</param>
/// <param name="Invariants">Invariant id → how often it was evaluated (once per step per scope it was checked on), and the
/// devices, groups and domains of those scopes (<see cref="ScopeRow"/>).</param>
/// <param name="Scenarios">Scenario dimension (driver mix, device count, ...) × value → traces.</param>
/// <param name="Shrunk">The first <see cref="CampaignPlan.MaxShrunk"/> failures by trace number, shrunk.</param>
/// <param name="Elapsed">Wall time (after a merge: the sum over shards, i.e. machine time).</param>
public sealed record CampaignResult(
    CampaignPlan Plan,
    ImmutableArray<Shard> Shards,
    long Traces,
    long Steps,
    ImmutableArray<long> Failing,
    Tally Coverage,
    Tally Invariants,
    Tally Scenarios,
    ImmutableArray<ShrunkTrace> Shrunk,
    TimeSpan Elapsed)
{
    public bool Failed => !Failing.IsEmpty;

    /// <summary>Steps executed while shrinking the failures kept in <see cref="Shrunk"/>.</summary>
    public long ShrinkSteps => Shrunk.Sum(s => s.ShrinkSteps);

    public double StepsPerSecond => Steps / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>The replay string of the campaign's seed (<c>seed,gamma</c>).</summary>
    public string Replay => $"{Plan.Seed},{Plan.Gamma}";

    /// <summary>The row of <see cref="Invariants"/> (one row: counts by invariant id).</summary>
    public const string InvariantRow = "evaluations";

    /// <summary>The row of <see cref="Invariants"/> with the objects the invariants were checked over: devices, groups, domains.</summary>
    public const string ScopeRow = "objects in scope";

    /// <summary>Whether two results have the same figures (everything but the time and which shards they came from).</summary>
    public bool SameFigures(CampaignResult other) =>
        Plan.Seed == other.Plan.Seed && Plan.Gamma == other.Plan.Gamma && Plan.Traces == other.Plan.Traces
        && Plan.EndSize == other.Plan.EndSize && Plan.MaxShrunk == other.Plan.MaxShrunk && Plan.Bugs.SequenceEqual(other.Plan.Bugs)
        && Traces == other.Traces && Steps == other.Steps
        && Failing.SequenceEqual(other.Failing) && Coverage.SameAs(other.Coverage) && Invariants.SameAs(other.Invariants)
        && Scenarios.SameAs(other.Scenarios)
        && Shrunk.Select(s => (s.TraceNumber, s.FirstSteps, s.Steps, s.ShrinkSteps, s.Problem, s.Json))
            .SequenceEqual(other.Shrunk.Select(s => (s.TraceNumber, s.FirstSteps, s.Steps, s.ShrinkSteps, s.Problem, s.Json)));
}
