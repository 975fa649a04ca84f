using System.Globalization;
using System.Text;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Generation;

namespace IommuConformance.Harness.Checking;

/// <summary>Markdown for reports/campaign.md: the verdict, the figures, the operation × outcome table, what was never produced.</summary>
public static class CampaignReport
{
    public static string ToMarkdown(CampaignResult campaign)
    {
        var text = new StringBuilder();
        text.AppendLine("# Conformance campaign").AppendLine();
        text.AppendLine(campaign.Failed ? "**Verdict: DIVERGED** (shrunk failures below)" : "**Verdict: conformant**").AppendLine();
        text.AppendLine("| figure | value |").AppendLine("|---|---|");
        foreach (var (name, value) in Figures(campaign)) Row(text, name, value);
        text.AppendLine();
        var outcomes = campaign.Coverage.Cells.Select(c => Condensed(c.Column)).Distinct().Order(StringComparer.Ordinal).ToArray();
        text.AppendLine("## Operation × outcome (model's answers; +warn: with kernel warnings)").AppendLine();
        text.AppendLine("| operation | " + string.Join(" | ", outcomes) + " |");
        text.AppendLine("|---|" + string.Concat(outcomes.Select(_ => "---:|")));
        foreach (var op in campaign.Coverage.Rows)
        {
            var row = campaign.Coverage.Row(op).GroupBy(c => Condensed(c.Key)).ToDictionary(g => g.Key, g => g.Sum(c => c.Value));
            text.AppendLine($"| `{op}` | " + string.Join(" | ", outcomes.Select(o => row.TryGetValue(o, out var n) ? N(n) : "")) + " |");
        }
        var never = NeverProduced(campaign);
        text.AppendLine().AppendLine($"## Never produced ({never.Count} of the catalogue's reachable pairs)").AppendLine();
        foreach (var (op, outcome) in never) text.AppendLine($"- `{op}` → `{outcome}`");
        if (never.Count == 0) text.AppendLine("Every reachable operation × outcome pair of `OutcomeCatalogue` was produced.");
        if (!campaign.Shrunk.IsEmpty)
        {
            text.AppendLine().AppendLine("## Shrunk failures").AppendLine();
            text.AppendLine("| trace | failing steps | shrunk steps | problem |").AppendLine("|---:|---:|---:|---|");
            foreach (var s in campaign.Shrunk)
                text.AppendLine($"| {s.TraceNumber} | {s.FirstSteps} | {s.Steps} | {s.Problem.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }
        return text.ToString();
    }

    /// <summary>The headline figures, in order (the conformance report prints them too).</summary>
    public static IReadOnlyList<(string Name, string Value)> Figures(CampaignResult c) =>
    [
        ("seed", $"`{c.Replay}` (`--seed {c.Replay}`)"),
        ("box", (c.Plan.Traces is { } t ? $"{N(t)} traces" : "") + (c.Plan.Traces is not null && c.Plan.Duration is not null ? ", " : "")
            + (c.Plan.Duration is { } d ? $"{d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s per shard" : "")),
        ("shards", c.Shards.Length == 1 ? c.Shards[0].ToString() : $"{c.Shards.Length} merged"),
        ("bugs", c.Plan.Bugs.IsEmpty ? "none" : string.Join(", ", c.Plan.Bugs.Select(b => $"`{b}`"))),
        ("traces run", N(c.Traces)),
        ("steps checked", N(c.Steps)),
        ("failing traces", N(c.Failing.Length)),
        ("shrunk failures", N(c.Shrunk.Length)),
        ("wall time", $"{c.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)} s" + (c.Shards.Length > 1 ? " (sum over shards)" : "")),
        ("steps per second", c.StepsPerSecond.ToString("F0", CultureInfo.InvariantCulture)),
    ];

    /// <summary>The catalogue's reachable operation × outcome pairs (the default run's, memory operations included) that no step of the campaign produced.</summary>
    public static IReadOnlyList<(string Op, string Outcome)> NeverProduced(CampaignResult campaign) =>
        [.. OutcomeCatalogue.For(TraceGenSettings.Default).OrderBy(p => p.Key, StringComparer.Ordinal)
            .SelectMany(p => p.Value.Where(o => OutcomeCatalogue.Required(p.Key, o) && campaign.Coverage[p.Key, o] == 0).Select(o => (p.Key, o)))];

    /// <summary>An outcome key as an errno column: warnings folded into "+warn".</summary>
    public static string Condensed(string key) => key.Contains(" [", StringComparison.Ordinal) ? key[..key.IndexOf(' ')] + "+warn" : key;

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static void Row(StringBuilder text, string name, string value) => text.AppendLine($"| {name} | {value} |");
}
