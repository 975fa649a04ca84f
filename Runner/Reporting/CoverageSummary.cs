using System.Text.Json;
using System.Text.Json.Nodes;

namespace IommuConformance.Runner.Reporting;

/// <summary>The figures of ReportGenerator's JsonSummary (DIR/coverage/Summary.json), when scripts/coverage.sh made one.</summary>
internal sealed record CoverageSummary(double Line, double Branch, double? Method, long CoveredLines, long CoverableLines, string Generated)
{
    public const string File = "coverage/Summary.json";

    /// <summary>The summary, or null when there is none (or it cannot be read: the report then says so).</summary>
    public static CoverageSummary? TryRead(string dir, out string? problem)
    {
        problem = null;
        var path = Path.Combine(dir, File);
        if (!System.IO.File.Exists(path)) return null;
        try
        {
            var summary = (JsonNode.Parse(System.IO.File.ReadAllText(path)) as JsonObject)?["summary"] as JsonObject
                ?? throw new FormatException("no \"summary\" object");
            return new CoverageSummary(
                Field(summary, "linecoverage").GetValue<double>(), Field(summary, "branchcoverage").GetValue<double>(),
                summary["methodcoverage"]?.GetValue<double>(), summary["coveredlines"]?.GetValue<long>() ?? 0,
                summary["coverablelines"]?.GetValue<long>() ?? 0, summary["generatedon"]?.ToString() ?? "");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IOException)
        {
            problem = $"{path}: {e.Message}";
            return null;
        }
    }

    private static JsonNode Field(JsonObject o, string name) => o[name] ?? throw new FormatException($"field \"{name}\" missing or null");
}
