using System.Collections.Immutable;

namespace IommuConformance.Harness.Checking;

/// <summary>A set of shard results that do not make one campaign; the message says why.</summary>
public sealed class CampaignMergeException(string message) : Exception(message);

/// <summary>
/// Combines the results of the shards of one campaign into the result of the whole: counts add up, failing trace
/// numbers are united, and the shrunk failures kept are the first <see cref="CampaignPlan.MaxShrunk"/> by trace number
/// (each shard shrank its own first ones, which include every one of the whole's first that is the shard's).
/// Refused: results of different campaigns (seed, gamma, size, bugs, box, shard count, format), a shard given twice,
/// or a missing shard.
/// </summary>
public static class CampaignMerge
{
    public static CampaignResult Merge(IReadOnlyList<(string Name, CampaignResult Result)> parts)
    {
        if (parts.Count == 0) throw new CampaignMergeException("nothing to merge");
        var (firstName, first) = parts[0];
        var plan = first.Plan;
        foreach (var (name, part) in parts.Skip(1))
        {
            var p = part.Plan;
            string? differs =
                p.Seed != plan.Seed || p.Gamma != plan.Gamma ? $"seed {p.Seed},{p.Gamma} vs {plan.Seed},{plan.Gamma}"
                : part.Shards[0].Count != first.Shards[0].Count ? $"shard count {part.Shards[0].Count} vs {first.Shards[0].Count}"
                : p.Traces != plan.Traces ? $"trace box {Box(p.Traces)} vs {Box(plan.Traces)}"
                : p.Duration != plan.Duration ? $"time box {p.Duration} vs {plan.Duration}"
                : p.EndSize != plan.EndSize ? $"end size {p.EndSize} vs {plan.EndSize}"
                : p.MaxShrunk != plan.MaxShrunk ? $"max shrunk {p.MaxShrunk} vs {plan.MaxShrunk}"
                : !p.Bugs.SequenceEqual(plan.Bugs) ? $"bugs [{string.Join(", ", p.Bugs)}] vs [{string.Join(", ", plan.Bugs)}]"
                : null;
            if (differs is not null)
                throw new CampaignMergeException($"{name} and {firstName} are not shards of one campaign: {differs}");
        }
        var count = first.Shards[0].Count;
        var seen = new Dictionary<int, string>();
        foreach (var (name, part) in parts)
            foreach (var shard in part.Shards)
                if (!seen.TryAdd(shard.Index, name))
                    throw new CampaignMergeException($"shard {shard} is in both {seen[shard.Index]} and {name} (overlapping shards)");
        var missing = Enumerable.Range(1, count).Where(i => !seen.ContainsKey(i)).ToArray();
        if (missing.Length > 0)
            throw new CampaignMergeException($"shard(s) {string.Join(", ", missing.Select(i => $"{i}/{count}"))} missing: a merge needs all {count}");

        var coverage = new Tally();
        var invariants = new Tally();
        var scenarios = new Tally();
        foreach (var (_, part) in parts)
        {
            coverage.AddAll(part.Coverage);
            invariants.AddAll(part.Invariants);
            scenarios.AddAll(part.Scenarios);
        }
        var results = parts.Select(p => p.Result).ToArray();
        return new CampaignResult(
            plan with { Shard = Shard.Whole },
            [.. Enumerable.Range(1, count).Select(i => new Shard(i, count))],
            results.Sum(r => r.Traces), results.Sum(r => r.Steps),
            [.. results.SelectMany(r => r.Failing).Order()],
            coverage, invariants, scenarios,
            [.. results.SelectMany(r => r.Shrunk).OrderBy(s => s.TraceNumber).Take(plan.MaxShrunk)],
            TimeSpan.FromTicks(results.Sum(r => r.Elapsed.Ticks)));
    }

    private static string Box(long? traces) => traces?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";
}
