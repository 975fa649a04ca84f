using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>Every rejection names where (step number and op, or topology entry) and which field.</summary>
public class MalformedTraceTests
{
    private const string Topology = """
        "topology": {
          "iommus": [ { "name": "smmu0", "driver": "smmuv3" }, { "name": "mock0", "driver": "mock" } ],
          "devices": [ { "name": "dev0", "bus": "pci", "iommu": "smmu0", "group": "g0" } ] }
        """;

    private static string WithSteps(string steps) =>
        $$"""{ "format": "iommu-conformance-trace/1", {{Topology}}, "steps": [ { "op": "probe", "dev": "dev0" }, {{steps}} ] }""";

    private static string WithTop(string fields) =>
        $$"""{ "format": "iommu-conformance-trace/1", {{fields}}, "steps": [] }""";

    public static TheoryData<string, string, string?> Cases() => new()
    {
        { WithSteps("""{ "op": "probe", "dev": "dev0", "extra": 1 }"""), "step 2 (probe)", "extra" },
        // null only where the format says so; reserved handle names; strings that are not valid UTF-16
        { WithSteps("""{ "op": "probe", "dev": null }"""), "step 2 (probe)", "dev" },
        { WithSteps("""{ "op": "probe", "dev": "dev0", "expect": null }"""), "step 2 (probe)", "expect" },
        { WithSteps("""{ "op": "domain_alloc_paging", "dev": "dev0", "as": "default" }"""), "step 2 (domain_alloc_paging)", "as" },
        { WithSteps("""{ "op": "domain_alloc_paging", "dev": "dev0", "as": "none" }"""), "step 2 (domain_alloc_paging)", "as" },
        { WithSteps("""{ "op": "domain_alloc_paging", "dev": "dev0", "as": "d\ud800" }"""), "step 2 (domain_alloc_paging)", "as" },
        { WithSteps("""{ "op": "bus_probe", "bus": "usb" }"""), "step 2 (bus_probe)", "bus" },
        { WithTop(""" "title": null, "topology": { "iommus": [], "devices": [] }"""), "trace", "title" },
        { WithTop(""" "bugs": null, "topology": { "iommus": [], "devices": [] }"""), "trace", "bugs" },
        { WithTop(""" "config": null, "topology": { "iommus": [], "devices": [] }"""), "trace", "config" },
        { WithTop(""" "config": { "cpus": null }, "topology": { "iommus": [], "devices": [] }"""), "config", "cpus" },
        { WithTop(""" "config": { "defaultDomain": null }, "topology": { "iommus": [], "devices": [] }"""), "config", "defaultDomain" },
        { WithTop(""" "config": { "era": "5.10" }, "topology": { "iommus": [], "devices": [] }"""), "config", "era" },
        { WithTop(""" "config": { "era": null }, "topology": { "iommus": [], "devices": [] }"""), "config", "era" },
        { WithTop(""" "title": "\ud800x", "topology": { "iommus": [], "devices": [] }"""), "trace", "title" },
        { WithSteps("""{ "op": "probe", "device": "dev0" }"""), "step 2 (probe)", "device" },
        { WithSteps("""{ "op": "attach_dev", "dev": "dev0" }"""), "step 2", "op" },
        { WithSteps("""{ "dev": "dev0" }"""), "step 2", "op" },
        { WithSteps("""{ "op": "get_domain" }"""), "step 2 (get_domain)", "dev" },
        { WithSteps("""{ "op": "get_domain", "dev": 7 }"""), "step 2 (get_domain)", "dev" },
        { WithSteps("""{ "op": "get_domain", "dev": "dev9" }"""), "step 2 (get_domain)", "dev" },
        { WithSteps("""{ "op": "claim_dma_owner", "dev": "dev0" }"""), "step 2 (claim_dma_owner)", "owner" },
        { WithSteps("""{ "op": "claim_dma_owner", "dev": "dev0", "owner": 3 }"""), "step 2 (claim_dma_owner)", "owner" },
        { WithSteps("""{ "op": "domain_free", "domain": "d1" }"""), "step 2 (domain_free)", "domain" },
        { WithSteps("""{ "op": "domain_alloc_paging", "dev": "dev0", "as": "d1", "flags": "nested" }"""), "step 2 (domain_alloc_paging)", "flags" },
        { WithSteps("""{ "op": "domain_alloc_paging", "dev": "dev0" }"""), "step 2 (domain_alloc_paging)", "as" },
        { WithSteps("""{ "op": "probe", "dev": "dev0", "expect": { "errno": "EWHAT" } }"""), "step 2 (probe) expect", "errno" },
        { WithSteps("""{ "op": "probe", "dev": "dev0", "expect": { "errno": "3" } }"""), "step 2 (probe) expect", "errno" },
        { WithSteps("""{ "op": "probe", "dev": "dev0", "expect": { "value": "x" } }"""), "step 2 (probe) expect", "errno" },
        { WithSteps("""{ "op": "probe", "dev": "dev0", "expect": { "errno": "OK", "warnings": ["oops"] } }"""), "step 2 (probe) expect", "warnings" },
        { WithSteps("""{ "op": "probe", "dev": "dev0", "expect": { "errno": "OK", "valu": "x" } }"""), "step 2 (probe) expect", "valu" },
        { WithSteps("""{ "op": "probe", "dev": "dev0", "dev": "dev0" }"""), "step 2", "dev" },
        { WithSteps("""[]"""), "step 2", null },
        { WithTop(""" "topology": { "iommus": [ { "name": "s", "driver": "intel" } ], "devices": [] } """), "topology.iommus[0] (s)", "driver" },
        { WithTop(""" "topology": { "iommus": [ { "name": "s", "driver": "mock" }, { "name": "s", "driver": "mock" } ], "devices": [] } """), "topology.iommus[1] (s)", "name" },
        { WithTop(""" "topology": { "iommus": [ { "name": "s", "driver": "mock", "options": { "pasids": true } } ], "devices": [] } """), "topology.iommus[0] (s).options", "pasids" },
        { WithTop(""" "topology": { "iommus": [], "devices": [ { "name": "d", "bus": "usb", "iommu": null, "group": "g" } ] } """), "topology.devices[0] (d)", "bus" },
        { WithTop(""" "topology": { "iommus": [], "devices": [ { "name": "d", "bus": "pci", "iommu": "smmu9", "group": "g" } ] } """), "topology.devices[0] (d)", "iommu" },
        { WithTop(""" "topology": { "iommus": [], "devices": [ { "name": "d", "bus": "pci", "group": "g" }, { "name": "d", "bus": "pci", "group": "h" } ] } """), "topology.devices[1] (d)", "name" },
        { WithTop(""" "topology": { "iommus": [], "devices": [ { "name": "d", "bus": "pci", "group": "g", "defDomainType": "DMA-FQ" } ] } """), "topology.devices[0] (d)", "defDomainType" },
        { WithTop(""" "topology": { "iommus": [], "devices": [ { "name": "d", "bus": "pci" } ] } """), "topology.devices[0] (d)", "group" },
        { WithTop(""" "topology": { "iommus": [], "devices": [ { "name": "d", "bus": "pci", "group": "g", "untrusted": "yes" } ] } """), "topology.devices[0] (d)", "untrusted" },
        { WithTop(""" "config": { "defaultDomain": "lazy" }, "topology": { "iommus": [], "devices": [] } """), "config", "defaultDomain" },
        { WithTop(""" "config": { "cpus": 0 }, "topology": { "iommus": [], "devices": [] } """), "config", "cpus" },
        { WithTop(""" "config": { "cpu": 2 }, "topology": { "iommus": [], "devices": [] } """), "config", "cpu" },
        { WithTop(""" "topologie": {}, "topology": { "iommus": [], "devices": [] } """), "trace", "topologie" },
        { WithTop(""" "bugs": ["x", "x"], "topology": { "iommus": [], "devices": [] } """), "trace", "bugs" },
        { """{ "topology": { "iommus": [], "devices": [] }, "steps": [] }""", "trace", "format" },
        { """{ "format": "iommu-conformance-trace/0", "topology": { "iommus": [], "devices": [] }, "steps": [] }""", "trace", "format" },
        { """{ "format": "iommu-conformance-trace/1", "steps": [] }""", "trace", "topology" },
        { """{ "format": "iommu-conformance-trace/1", """, "trace", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rejection_names_location_and_field(string json, string location, string? field)
    {
        var e = Assert.Throws<TraceFormatException>(() => TraceJson.Read(json));
        Assert.Equal(location, e.Location);
        Assert.Equal(field, e.Field);
        Assert.StartsWith(location + ":", e.Message);
        if (field is not null) Assert.Contains($"field '{field}'", e.Message);
    }

    [Fact]
    public void An_unsupported_format_lists_the_supported_ones()
    {
        var e = Assert.Throws<TraceFormatException>(() =>
            TraceJson.Read("""{ "format": "iommu-conformance-trace/0", "topology": { "iommus": [], "devices": [] }, "steps": [] }"""));
        Assert.Contains("\"iommu-conformance-trace/0\" is not supported", e.Message);
        Assert.Contains(Trace.Format, e.Message);
    }

    [Fact]
    public void A_domain_may_be_used_only_after_the_step_that_binds_it()
    {
        var ok = WithSteps("""{ "op": "domain_alloc_paging", "dev": "dev0", "as": "d1" }, { "op": "domain_free", "domain": "d1" }, { "op": "domain_free", "domain": "d1" }""");
        Assert.Equal(4, TraceJson.Read(ok).Steps.Length);
    }

    [Fact]
    public void Sample_malformed_files_are_refused_with_step_and_field()
    {
        var files = SampleFiles.Malformed().ToList();
        Assert.True(files.Count >= 2);
        foreach (var file in files)
        {
            var e = Assert.Throws<TraceFormatException>(() => TraceJson.ReadFile(file));
            Assert.Contains("step 2", e.Message);
            Assert.NotNull(e.Field);
            Assert.StartsWith(file, e.Message);
        }
    }
}
