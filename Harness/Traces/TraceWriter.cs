using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using IommuConformance.Contract;

namespace IommuConformance.Harness.Traces;

/// <summary>
/// <see cref="Trace"/> → canonical JSON: fixed field order, two-space indentation, one line per IOMMU, device and
/// step (so printed failures stay readable and diffs stay small), optional fields omitted when they hold their
/// default. <c>TraceReader.Parse(Write(t))</c> equals <c>t</c>.
/// </summary>
internal static class TraceWriter
{
    public static string Write(Trace trace)
    {
        var text = new StringBuilder();
        text.Append("{\n");
        text.Append($"  \"format\": {Quote(Trace.Format)},\n");
        if (trace.Title.Length > 0) text.Append($"  \"title\": {Quote(trace.Title)},\n");
        text.Append($"  \"bugs\": [{string.Join(", ", trace.Bugs.Select(Quote))}],\n");
        text.Append($"  \"config\": {Config(trace.Config)},\n");
        text.Append("  \"topology\": {\n");
        AppendList(text, "iommus", trace.Topology.Iommus.Select(Iommu), "    ", last: false);
        AppendList(text, "devices", trace.Topology.Devices.Select(Device), "    ", last: true);
        text.Append("  },\n");
        AppendList(text, "steps", trace.Steps.Select(Step), "  ", last: true);
        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>One step as a single-line JSON object, e.g. for tables and logs.</summary>
    public static string Step(TraceStep step)
    {
        var line = new Inline().Add("op", Quote(step.Op.Name));
        foreach (var (field, value) in step.Op.Fields())
            line.Add(field, value is null ? "null" : Quote(value));
        if (step.Expect is { } expect) line.Add("expect", ExpectJson(expect));
        return line.ToString();
    }

    private static string ExpectJson(Expect expect)
    {
        var line = new Inline().Add("errno", Quote(expect.Errno.ToString()));
        if (expect.Value is not null) line.Add("value", Quote(expect.Value));
        if (expect.Warnings is { } warnings) line.Add("warnings", $"[{string.Join(", ", warnings.Select(Quote))}]");
        return line.ToString();
    }

    private static string Config(SystemConfig config) =>
        new Inline().Add("cpus", config.Cpus.ToString()).Add("defaultDomain", Quote(TraceNames.Name(config.DefaultDomain))).ToString();

    private static string Iommu(IommuSpec iommu)
    {
        var line = new Inline().Add("name", Quote(iommu.Name)).Add("driver", Quote(iommu.Driver));
        var o = iommu.Options;
        var options = new Inline()
            .AddIf(o.DeferredFlush is not null, "deferredFlush", Bool(o.DeferredFlush))
            .AddIf(o.IdentityDomain is not null, "identityDomain", Bool(o.IdentityDomain))
            .AddIf(o.Pasid is not null, "pasid", Bool(o.Pasid))
            .AddIf(o.IotlbEntries is not null, "iotlbEntries", o.IotlbEntries.ToString()!)
            .AddIf(o.CachingMode is not null, "cachingMode", Bool(o.CachingMode));
        if (!options.IsEmpty) line.Add("options", options.ToString());
        return line.ToString();
    }

    private static string Device(DeviceSpec d) =>
        new Inline()
            .Add("name", Quote(d.Name))
            .Add("bus", Quote(d.Bus))
            .Add("iommu", d.Iommu is null ? "null" : Quote(d.Iommu)) // always written: "behind no IOMMU" is worth seeing
            .Add("group", Quote(d.Group))
            .AddIf(d.MaxPasids != 0, "maxPasids", d.MaxPasids.ToString())
            .AddIf(d.Untrusted, "untrusted", "true")
            .AddIf(d.RequireDirect, "requireDirect", "true")
            .AddIf(d.NoDirty, "noDirty", "true")
            .AddIf(d.DefDomainType is not null, "defDomainType", d.DefDomainType is null ? "" : Quote(d.DefDomainType))
            .ToString();

    private static void AppendList(StringBuilder text, string name, IEnumerable<string> lines, string indent, bool last)
    {
        var items = lines.ToList();
        var comma = last ? "" : ",";
        if (items.Count == 0)
        {
            text.Append($"{indent}\"{name}\": []{comma}\n");
            return;
        }
        text.Append($"{indent}\"{name}\": [\n");
        for (var i = 0; i < items.Count; i++)
            text.Append(indent).Append("  ").Append(items[i]).Append(i + 1 < items.Count ? ",\n" : "\n");
        text.Append($"{indent}]{comma}\n");
    }

    private static string Bool(bool? value) => value == true ? "true" : "false";

    internal static string Quote(string value) =>
        $"\"{JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}\"";

    /// <summary>A one-line JSON object: <c>{ "a": 1, "b": "x" }</c>.</summary>
    private sealed class Inline
    {
        private readonly List<string> _members = [];

        public bool IsEmpty => _members.Count == 0;

        public Inline Add(string name, string rawJson)
        {
            _members.Add($"\"{name}\": {rawJson}");
            return this;
        }

        public Inline AddIf(bool condition, string name, string rawJson) => condition ? Add(name, rawJson) : this;

        public override string ToString() => IsEmpty ? "{}" : $"{{ {string.Join(", ", _members)} }}";
    }
}
