using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>The sample traces agree with the reference model (run against a copy of the model as implementation).</summary>
public class SampleTraceTests
{
    public static TheoryData<string> Green() => [.. SampleFiles.Green().Concat(SampleFiles.Bugs()).Select(f => Path.GetFileName(f))];

    private static string PathOf(string name) =>
        SampleFiles.Replayable().Single(f => Path.GetFileName(f) == name);

    [Theory]
    [MemberData(nameof(Green))]
    public void Every_expect_agrees_with_the_model(string name)
    {
        var trace = TraceJson.ReadFile(PathOf(name));
        var report = Models.Run(trace, () => Models.For(trace), () => new ModelEcho(trace));
        Assert.True(report.Conformant, report.Problem?.Message);
    }

    [Fact]
    public void There_are_enough_samples()
    {
        Assert.InRange(SampleFiles.Green().Count(), 6, 30);
        Assert.Equal(IommuConformance.Implementations.Bugs.BugCatalogue.All.Count, SampleFiles.Bugs().Count());
    }

    [Fact]
    public void Each_bug_trace_switches_on_the_bug_it_is_named_after()
    {
        foreach (var file in SampleFiles.Bugs())
            Assert.Equal([Path.GetFileNameWithoutExtension(file)], TraceJson.ReadFile(file).Bugs.ToArray());
    }

    [Fact]
    public void The_expect_mismatch_sample_is_an_expect_mismatch()
    {
        var trace = TraceJson.ReadFile(Path.Combine(SampleFiles.Root, "expect-mismatch.json"));
        var report = Models.Run(trace, () => Models.For(trace), () => new ModelEcho(trace));
        Assert.Equal(Verdict.ExpectMismatch, report.Verdict);
        Assert.Equal(1, report.FailingIndex);
    }
}

/// <summary>The sample traces replayed as the Runner does: on the model and the real implementation.</summary>
public class SampleReplayTests
{
    public static TheoryData<string> Green() => [.. SampleFiles.Green().Select(f => Path.GetFileName(f))];

    public static TheoryData<string> Bugs() => [.. SampleFiles.Bugs().Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(Green))]
    public void Green_samples_are_conformant(string name)
    {
        var report = Executor.Run(TraceJson.ReadFile(Path.Combine(SampleFiles.Root, name)));
        Assert.True(report.Conformant, report.Problem?.Message);
    }

    [Theory]
    [MemberData(nameof(Bugs))]
    public void Each_bug_trace_diverges_with_its_bug_and_is_conformant_without_it(string name)
    {
        var trace = TraceJson.ReadFile(Path.Combine(SampleFiles.Root, "bugs", name));
        Assert.Equal(Verdict.Diverged, Executor.Run(trace).Verdict);
        var clean = Executor.Run(trace with { Bugs = [] });
        Assert.True(clean.Conformant, clean.Problem?.Message);
    }
}
