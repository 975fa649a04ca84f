using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>config.era (docs/trace-format.md): optional, absent = the contract's 7.0; written only when not the default.</summary>
public class TraceEraTests
{
    private static string Trace(string config) =>
        $$"""{ "format": "iommu-conformance-trace/1", "config": {{config}}, "topology": { "iommus": [], "devices": [] }, "steps": [] }""";

    [Fact]
    public void An_absent_era_is_the_contracts_and_is_not_written()
    {
        var trace = TraceJson.Read(Trace("""{ "cpus": 1 }"""));
        Assert.Equal(KernelEra.V7_0, trace.Config.Era);
        Assert.DoesNotContain("era", TraceJson.Write(trace));
    }

    [Fact]
    public void Era_6_1_is_read_and_written_back()
    {
        var trace = TraceJson.Read(Trace("""{ "cpus": 1, "era": "6.1" }"""));
        Assert.Equal(KernelEra.V6_1, trace.Config.Era);
        Assert.Contains("\"era\": \"6.1\"", TraceJson.Write(trace));
        Assert.Equal(trace.Config, TraceJson.Read(TraceJson.Write(trace)).Config);
        Assert.Equal(KernelEra.V7_0, TraceJson.Read(Trace("""{ "era": "7.0" }""")).Config.Era);
    }

    [Fact]
    public void An_unknown_era_names_the_known_ones()
    {
        var e = Assert.ThrowsAny<Exception>(() => TraceJson.Read(Trace("""{ "era": "5.10" }""")));
        Assert.Contains("6.1", e.Message);
        Assert.Contains("7.0", e.Message);
    }

    [Fact]
    public void The_implementation_refuses_era_6_1_with_the_reason()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            IommuSystem.Create(new SystemConfig(Era: KernelEra.V6_1), new Topology([], []), []));
        Assert.Contains("7.0 era only", e.Message);
    }

    [Fact]
    public void The_conformance_generator_never_draws_another_era()
    {
        for (ulong seed = 0; seed < 50; seed++)
            Assert.Equal(KernelEra.V7_0, Harness.Iommu.Generation.TopologyGen.Config(new Harness.Core.Generation.Prng(seed)).Era);
    }
}
