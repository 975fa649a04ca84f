using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IommuConformance.Harness.Core.Json;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Checking;

/// <summary>A campaign result file that cannot be used: the message names the file and what is wrong.</summary>
public sealed class CampaignFormatException(string message) : Exception(message);

/// <summary>
/// The machine-readable campaign result (<c>campaign.json</c>, one per shard): versioned like traces
/// (<see cref="Format"/>), with the trace format of the traces it embeds. Seeds are strings (64-bit values do not
/// survive a double). docs/day-to-day.md describes the fields.
/// </summary>
public static class CampaignJson
{
    public const string Format = "iommu-conformance-campaign/1";

    public static readonly IReadOnlyList<string> SupportedFormats = [Format];

    public static string Write(CampaignResult r)
    {
        var root = new JsonObject
        {
            ["format"] = Format,
            ["traceFormat"] = Trace.Format,
            ["seed"] = r.Plan.Seed.ToString(CultureInfo.InvariantCulture),
            ["gamma"] = r.Plan.Gamma.ToString(CultureInfo.InvariantCulture),
            ["endSize"] = r.Plan.EndSize,
            ["maxShrunk"] = r.Plan.MaxShrunk,
            ["bugs"] = new JsonArray([.. r.Plan.Bugs.Select(b => (JsonNode)b!)]),
            ["boxTraces"] = r.Plan.Traces,
            ["boxSeconds"] = r.Plan.Duration?.TotalSeconds,
            ["shardCount"] = r.Plan.Shard.Count,
            ["shards"] = new JsonArray([.. r.Shards.Select(s => (JsonNode)s.Index!)]),
            ["traces"] = r.Traces,
            ["steps"] = r.Steps,
            ["elapsedSeconds"] = Math.Round(r.Elapsed.TotalSeconds, 3),
            ["failing"] = new JsonArray([.. r.Failing.Select(k => (JsonNode)k!)]),
            ["coverage"] = TallyNode(r.Coverage),
            ["invariants"] = TallyNode(r.Invariants),
            ["scenarios"] = TallyNode(r.Scenarios),
            ["shrunk"] = new JsonArray([.. r.Shrunk.Select(s => (JsonNode)new JsonObject
            {
                ["traceNumber"] = s.TraceNumber,
                ["firstSteps"] = s.FirstSteps,
                ["steps"] = s.Steps,
                ["shrinkSteps"] = s.ShrinkSteps,
                ["problem"] = s.Problem,
                ["trace"] = JsonNode.Parse(s.Json),
            })]),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Reads a result file; throws <see cref="CampaignFormatException"/> naming the file on anything wrong.</summary>
    public static CampaignResult ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CampaignFormatException($"{path}: cannot be read: {e.Message}");
        }
        return Read(text, path);
    }

    public static CampaignResult Read(string text, string name)
    {
        try
        {
            var root = JsonNode.Parse(text) as JsonObject ?? throw new FormatException("not a JSON object");
            var format = root["format"]?.GetValue<string>();
            if (format is null || !SupportedFormats.Contains(format))
                throw new FormatException($"format {(format is null ? "missing" : $"\"{format}\" is not supported")}; this build reads {string.Join(", ", SupportedFormats)}");
            var traceFormat = Required(root, "traceFormat").GetValue<string>();
            if (!TraceNames.SupportedFormats.Contains(traceFormat))
                throw new FormatException($"traceFormat \"{traceFormat}\" is not supported; this build reads {string.Join(", ", TraceNames.SupportedFormats)}");
            var shardCount = Required(root, "shardCount").GetValue<int>();
            var shards = Array(root, "shards").Select(n => n!.GetValue<int>()).ToArray();
            if (shardCount < 1 || shards.Length == 0 || shards.Any(i => i < 1 || i > shardCount) || shards.Distinct().Count() != shards.Length)
                throw new FormatException($"shards [{string.Join(", ", shards)}] do not fit shardCount {shardCount}");
            var boxSeconds = root["boxSeconds"]?.GetValue<double>();
            var plan = new CampaignPlan(
                ulong.Parse(Required(root, "seed").GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture),
                ulong.Parse(Required(root, "gamma").GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture),
                root["boxTraces"]?.GetValue<long>(),
                boxSeconds is { } s ? TimeSpan.FromSeconds(s) : null,
                new Shard(shards.Length == 1 ? shards[0] : 1, shards.Length == 1 ? shardCount : 1),
                [.. Array(root, "bugs").Select(n => n!.GetValue<string>())],
                Required(root, "endSize").GetValue<int>(),
                Required(root, "maxShrunk").GetValue<int>());
            var shrunk = Array(root, "shrunk").Select(n => n as JsonObject ?? throw new FormatException("a shrunk entry is not an object"))
                .Select(o => new ShrunkTrace(
                    Required(o, "traceNumber").GetValue<long>(), Required(o, "firstSteps").GetValue<int>(),
                    Required(o, "steps").GetValue<int>(), Required(o, "shrinkSteps").GetValue<long>(), Required(o, "problem").GetValue<string>(),
                    TraceJson.Write(TraceJson.Read(Required(o, "trace").ToJsonString()))));
            return new CampaignResult(plan, [.. shards.Order().Select(i => new Shard(i, shardCount))],
                Required(root, "traces").GetValue<long>(), Required(root, "steps").GetValue<long>(),
                [.. Array(root, "failing").Select(n => n!.GetValue<long>())],
                ReadTally(root, "coverage"), ReadTally(root, "invariants"), ReadTally(root, "scenarios"),
                [.. shrunk], TimeSpan.FromSeconds(Required(root, "elapsedSeconds").GetValue<double>()));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException
                                      or ArgumentException or TraceFormatException)
        {
            throw new CampaignFormatException($"{name}: not a campaign result: {e.Message}");
        }
    }

    private static JsonNode Required(JsonObject o, string field) => o[field] ?? throw new FormatException($"field \"{field}\" missing or null");

    private static JsonArray Array(JsonObject o, string field) => Required(o, field) as JsonArray ?? throw new FormatException($"field \"{field}\" is not an array");

    private static JsonObject TallyNode(Tally tally)
    {
        var node = new JsonObject();
        foreach (var row in tally.Rows)
            node[row] = new JsonObject([.. tally.Row(row).Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value))]);
        return node;
    }

    private static Tally ReadTally(JsonObject root, string field)
    {
        var tally = new Tally();
        var node = Required(root, field) as JsonObject ?? throw new FormatException($"field \"{field}\" is not an object");
        foreach (var (row, cells) in node)
            foreach (var (column, count) in cells as JsonObject ?? throw new FormatException($"{field}.{row} is not an object"))
                tally.Add(row, column, count?.GetValue<long>() ?? throw new FormatException($"{field}.{row}.{column} is null"));
        return tally;
    }
}
