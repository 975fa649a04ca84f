using System.Globalization;
using System.Text;
using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Harness.Checking;

/// <summary>Markdown for reports/campaign.md: the verdict, the figures, and the operation × outcome table.</summary>
public static class CampaignReport
{
    public static string ToMarkdown(CampaignResult campaign, CheckSettings settings)
    {
        var check = campaign.Check;
        var text = new StringBuilder();
        text.AppendLine("# Conformance campaign").AppendLine();
        text.AppendLine(check.Failed ? "**Verdict: DIVERGED** (shrunk failure below)" : "**Verdict: conformant**").AppendLine();
        text.AppendLine("| figure | value |").AppendLine("|---|---|");
        Row(text, "replay", $"`{CheckSettings.SeedVariable}={settings.Replay}`");
        Row(text, "traces", check.Tests.ToString(CultureInfo.InvariantCulture));
        Row(text, "shrinks", check.Shrinks.ToString(CultureInfo.InvariantCulture));
        Row(text, "steps checked", check.StepsChecked.ToString(CultureInfo.InvariantCulture));
        Row(text, "wall time", $"{check.Elapsed.TotalSeconds:F2} s");
        Row(text, "steps per second", check.StepsPerSecond.ToString("F0", CultureInfo.InvariantCulture));
        text.AppendLine();
        var outcomes = campaign.Coverage.Values.SelectMany(r => r.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        text.AppendLine("## Operation × outcome (model's answers)").AppendLine();
        text.AppendLine("| operation | " + string.Join(" | ", outcomes) + " |");
        text.AppendLine("|---|" + string.Concat(outcomes.Select(_ => "---:|")));
        foreach (var (op, row) in campaign.Coverage)
            text.AppendLine($"| `{op}` | " + string.Join(" | ", outcomes.Select(o => row.TryGetValue(o, out var n) ? n.ToString(CultureInfo.InvariantCulture) : "")) + " |");
        if (check.Shrunk is { } failure)
            text.AppendLine().AppendLine("## Shrunk failure").AppendLine().AppendLine("```").AppendLine(failure.Problem?.Message).AppendLine("```");
        return text.ToString();
    }

    private static void Row(StringBuilder text, string name, string value) => text.AppendLine($"| {name} | {value} |");
}
