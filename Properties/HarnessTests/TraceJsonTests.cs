using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

public class TraceJsonTests
{
    [Fact]
    public void Every_operation_round_trips()
    {
        var trace = Fixtures.EveryOperation();
        var text = TraceJson.Write(trace);
        Assert.Equal(trace, TraceJson.Read(text));
        Assert.Equal(text, TraceJson.Write(TraceJson.Read(text)));
    }

    [Fact]
    public void The_fixture_covers_every_operation_of_the_contract()
    {
        var records = typeof(Operation).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Operation)) && !t.IsAbstract).Count();
        Assert.Equal(35, records);
        Assert.Equal(records, TraceJson.OperationNames.Count);
        Assert.Equal(TraceJson.OperationNames.Order(), Fixtures.EveryOperation().Steps.Select(s => s.Op.Name).Distinct().Order());
    }

    [Fact]
    public void Writer_omits_defaults_and_keeps_null_owner_and_iommu()
    {
        var text = TraceJson.Write(Fixtures.EveryOperation());
        Assert.Contains("{ \"name\": \"dev0\", \"bus\": \"pci\", \"iommu\": \"smmu0\", \"group\": \"g0\" }", text);
        Assert.Contains("\"iommu\": null", text);
        Assert.Contains("\"owner\": null", text);
        Assert.Contains("{ \"name\": \"smmu0\", \"driver\": \"smmuv3\" }", text);
        Assert.Contains("\"options\": { \"deferredFlush\": false, \"identityDomain\": true, \"iotlbEntries\": 64, \"cachingMode\": false }", text);
        Assert.Contains("{ \"op\": \"probe\", \"dev\": \"dev0\", \"expect\": { \"errno\": \"OK\" } }", text);
        Assert.Contains("\"warnings\": []", text); // an explicit "no warnings" differs from "any warnings"
        Assert.DoesNotContain("\"flags\": null", text);
    }

    [Fact]
    public void Absent_optional_sections_take_their_defaults()
    {
        var trace = TraceJson.Read("""
            { "format": "iommu-conformance-trace/1",
              "topology": { "iommus": [], "devices": [] }, "steps": [] }
            """);
        Assert.Equal(SystemConfig.Default, trace.Config);
        Assert.Empty(trace.Bugs);
        Assert.Equal("", trace.Title);
    }

    [Fact]
    public void Sample_traces_are_canonical()
    {
        foreach (var file in SampleFiles.Replayable())
        {
            var text = File.ReadAllText(file);
            Assert.True(TraceJson.Write(TraceJson.Read(text)) == text, $"{file} is not in canonical form");
        }
    }

    [Fact]
    public void With_model_expects_sets_executed_steps_and_keeps_a_failed_expect()
    {
        var trace = Fixtures.Small(
            new(new Probe("dev0")),
            new(new GetDomain("dev0"), new Expect(Errno.EBUSY)),
            new(new Release("dev0")));
        var outcome = Outcome.OkWith("default");
        var report = new RunReport(trace,
        [
            new StepReport(0, trace.Steps[0].Op, Outcome.Ok.WithWarnings(["w"]), Outcome.Ok, null),
            new StepReport(1, trace.Steps[1].Op, outcome, outcome, new Problem(ProblemKind.Expect, "expect", "...")),
        ], Verdict.ExpectMismatch, new Problem(ProblemKind.Expect, "expect", "..."));
        var withExpects = TraceJson.WithModelExpects(report);
        Assert.Equal(new Expect(Errno.OK, null, ["w"]), withExpects.Steps[0].Expect);
        Assert.Equal(new Expect(Errno.EBUSY), withExpects.Steps[1].Expect);
        Assert.Null(withExpects.Steps[2].Expect);

        var diverged = report with { Verdict = Verdict.Diverged };
        Assert.Equal(new Expect(Errno.OK, "default"), TraceJson.WithModelExpects(diverged).Steps[1].Expect);
    }
}
