using System.Text.Json;
using System.Text.Json.Nodes;

namespace IommuConformance.Runner.Commands;

/// <summary>One seeded bug's hunt in figures (a row of hunt.md).</summary>
internal sealed record HuntRow(string Bug, bool Found, int Traces, int? FirstSteps, int? ShrunkSteps, int Documented, double Seconds, double ShrinkMs);

/// <summary>
/// hunt.json: the hunt's rows for the conformance report (format <see cref="Format"/>). Read leniently by the report
/// (a missing or unreadable file only leaves the hunt section out).
/// </summary>
internal static class HuntJson
{
    public const string File = "hunt.json";

    public const string Format = "iommu-conformance-hunt/1";

    public static string Write(string replay, int maxTest, IReadOnlyList<HuntRow> rows) =>
        new JsonObject
        {
            ["format"] = Format,
            ["seed"] = replay,
            ["maxTest"] = maxTest,
            ["bugs"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject
            {
                ["bug"] = r.Bug, ["found"] = r.Found, ["traces"] = r.Traces, ["firstSteps"] = r.FirstSteps,
                ["shrunkSteps"] = r.ShrunkSteps, ["documented"] = r.Documented,
                ["seconds"] = Math.Round(r.Seconds, 3), ["shrinkMs"] = Math.Round(r.ShrinkMs, 2),
            })]),
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    /// <summary>The seed and rows of a hunt.json, or null (with why) when it is missing, of another format or unreadable.</summary>
    public static (string Seed, IReadOnlyList<HuntRow> Rows)? TryRead(string path, out string? problem)
    {
        problem = null;
        if (!System.IO.File.Exists(path)) return null;
        try
        {
            var root = JsonNode.Parse(System.IO.File.ReadAllText(path)) as JsonObject ?? throw new FormatException("not a JSON object");
            if (root["format"]?.GetValue<string>() != Format) throw new FormatException($"format is not {Format}");
            var rows = Field(root, "bugs").AsArray().Select(n => n as JsonObject ?? throw new FormatException("a bug entry is not an object"))
                .Select(o => new HuntRow(
                    Field(o, "bug").GetValue<string>(), Field(o, "found").GetValue<bool>(), Field(o, "traces").GetValue<int>(),
                    o["firstSteps"]?.GetValue<int>(), o["shrunkSteps"]?.GetValue<int>(), Field(o, "documented").GetValue<int>(),
                    Field(o, "seconds").GetValue<double>(), Field(o, "shrinkMs").GetValue<double>())).ToArray();
            return (Field(root, "seed").GetValue<string>(), rows);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or IOException)
        {
            problem = $"{path}: {e.Message}";
            return null;
        }
    }

    private static JsonNode Field(JsonObject o, string name) => o[name] ?? throw new FormatException($"field \"{name}\" missing or null");
}
