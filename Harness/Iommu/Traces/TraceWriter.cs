using System.Text;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Json;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Traces;

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

    public static string Step(TraceStep step) => StepJson.Write(step);

    private static string Config(SystemConfig config) =>
        new InlineObject().Add("cpus", config.Cpus.ToString()).Add("defaultDomain", Quote(TraceNames.Name(config.DefaultDomain)))
            .AddIf(config.Era != SystemConfig.Default.Era, "era", Quote(KernelEras.Name(config.Era))).ToString();

    private static string Iommu(IommuSpec iommu)
    {
        var line = new InlineObject().Add("name", Quote(iommu.Name)).Add("driver", Quote(iommu.Driver));
        var o = iommu.Options;
        var options = new InlineObject()
            .AddIf(o.DeferredFlush is not null, "deferredFlush", Bool(o.DeferredFlush))
            .AddIf(o.IdentityDomain is not null, "identityDomain", Bool(o.IdentityDomain))
            .AddIf(o.Pasid is not null, "pasid", Bool(o.Pasid))
            .AddIf(o.IotlbEntries is not null, "iotlbEntries", o.IotlbEntries.ToString()!)
            .AddIf(o.CachingMode is not null, "cachingMode", Bool(o.CachingMode))
            .AddIf(o.Scalable is not null, "scalable", Bool(o.Scalable));
        if (!options.IsEmpty) line.Add("options", options.ToString());
        return line.ToString();
    }

    private static string Device(DeviceSpec d) =>
        new InlineObject()
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

    private static void AppendList(StringBuilder text, string name, IEnumerable<string> lines, string indent, bool last) =>
        JsonText.AppendList(text, name, lines, indent, last);

    private static string Bool(bool? value) => value == true ? "true" : "false";

    internal static string Quote(string value) => JsonText.Quote(value);
}
