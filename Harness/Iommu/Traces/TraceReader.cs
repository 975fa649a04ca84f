using System.Collections.Immutable;
using System.Text.Json;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Json;

namespace IommuConformance.Harness.Iommu.Traces;

/// <summary>
/// Syntax of a trace file: JSON → <see cref="Trace"/>, strict about fields, types and nulls. Steps are read by the
/// operation table (<see cref="StepJson"/>); the cross-references are <see cref="TraceValidator"/>'s job.
/// </summary>
internal static class TraceReader
{
    private static readonly JsonDocumentOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip, // hand-written traces may carry // notes
        AllowTrailingCommas = false,
        MaxDepth = 16,
    };

    internal static readonly StepJson Steps = new(Operations.All, Warn.All.ToHashSet(StringComparer.Ordinal), Warn.IsKnown);

    public static Trace Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Options);
        }
        catch (JsonException e)
        {
            throw new TraceFormatException("trace", null,
                $"not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}");
        }
        using (document)
            return ParseRoot(document.RootElement);
    }

    private static Trace ParseRoot(JsonElement root)
    {
        var fields = new JsonFields(root, "trace");
        var format = fields.OptionalString("format");
        if (format is null || !TraceNames.SupportedFormats.Contains(format))
            throw fields.Fail("format", (format is null ? "missing" : $"\"{format}\" is not supported")
                + $"; this build reads: {string.Join(", ", TraceNames.SupportedFormats.Select(f => $"\"{f}\""))}");

        var title = fields.OptionalString("title") ?? "";
        var bugs = fields.OptionalStrings("bugs") ?? [];
        var config = fields.OptionalObject("config") is { } c ? ParseConfig(c) : SystemConfig.Default;
        var topology = ParseTopology(fields.Object("topology"));
        var steps = fields.Array("steps").Select((s, i) => Steps.Read(s, i + 1)).ToImmutableArray();
        fields.EnsureNoOthers();
        return new Trace(title, [.. bugs], config, topology, steps);
    }

    private static SystemConfig ParseConfig(JsonElement element)
    {
        var fields = new JsonFields(element, "config");
        var cpus = fields.OptionalInt("cpus") ?? SystemConfig.Default.Cpus;
        var type = SystemConfig.Default.DefaultDomain;
        if (fields.OptionalString("defaultDomain") is { } name && !TraceNames.TryParseDefaultDomain(name, out type))
            throw fields.Fail("defaultDomain",
                $"unknown type \"{name}\"; known: {string.Join(", ", TraceNames.DefaultDomainNames)}");
        var era = SystemConfig.Default.Era;
        if (fields.OptionalString("era") is { } eraName && !KernelEras.TryParse(eraName, out era))
            throw fields.Fail("era", $"unknown era \"{eraName}\"; known: {string.Join(", ", KernelEras.Names)} (absent: {KernelEras.V7_0})");
        fields.EnsureNoOthers();
        return new SystemConfig(cpus, type, era);
    }

    private static Topology ParseTopology(JsonElement element)
    {
        var fields = new JsonFields(element, "topology");
        var iommus = fields.Array("iommus").Select((e, i) => ParseIommu(e, $"topology.iommus[{i}]")).ToImmutableArray();
        var devices = fields.Array("devices").Select((e, i) => ParseDevice(e, $"topology.devices[{i}]")).ToImmutableArray();
        fields.EnsureNoOthers();
        return new Topology(iommus, devices);
    }

    private static IommuSpec ParseIommu(JsonElement element, string location)
    {
        var fields = new JsonFields(element, location);
        var name = fields.String("name");
        var driver = fields.String("driver");
        var options = fields.OptionalObject("options") is { } o ? ParseOptions(o, $"{location} ({name}).options") : IommuOptions.None;
        fields.EnsureNoOthers();
        return new IommuSpec(name, driver, options);
    }

    private static IommuOptions ParseOptions(JsonElement element, string location)
    {
        var fields = new JsonFields(element, location);
        var options = new IommuOptions(
            fields.OptionalBool("deferredFlush"),
            fields.OptionalBool("identityDomain"),
            fields.OptionalBool("pasid"),
            fields.OptionalInt("iotlbEntries"),
            fields.OptionalBool("cachingMode"),
            fields.OptionalBool("scalable"));
        fields.EnsureNoOthers();
        return options;
    }

    private static DeviceSpec ParseDevice(JsonElement element, string location)
    {
        var fields = new JsonFields(element, location);
        var name = fields.String("name");
        fields = new JsonFields(element, $"{location} ({name})");
        var device = new DeviceSpec(
            fields.String("name"),
            fields.String("bus"),
            fields.StringOrNull("iommu"),          // null: behind no IOMMU
            fields.String("group"),
            fields.OptionalInt("maxPasids") ?? 0,
            fields.OptionalBool("untrusted") ?? false,
            fields.OptionalBool("requireDirect") ?? false,
            fields.OptionalBool("noDirty") ?? false,
            fields.StringOrNull("defDomainType")); // null: the driver has no preference
        fields.EnsureNoOthers();
        return device;
    }
}
