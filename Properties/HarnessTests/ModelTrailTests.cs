using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The executor's judge reuses the generator's model steps (<see cref="ModelTrail"/>) only where it stands on the very
/// state and operation the generator stepped: the same traces judged with and without the trail give the same reports,
/// conformant and failing alike.
/// </summary>
public class ModelTrailTests
{
    private static IEnumerable<Trace> Traces(TraceGenSettings settings, int count) =>
        Enumerable.Range(0, count).Select(k => TraceGen.Build(settings, TraceSeeds.Seed(20261204UL, 0x9E3779B97F4A7C15UL, k), TraceSeeds.Size(k, 100)));

    private static void SameReports(Trace trace)
    {
        Assert.NotNull(ModelTrail.Of(trace));
        var copy = trace with { };                      // a new object: no trail, the model steps itself
        Assert.Null(ModelTrail.Of(copy));
        var reused = Executor.Run(trace);
        var stepped = Executor.Run(copy);
        Assert.Equal(stepped.Verdict, reused.Verdict);
        Assert.Equal(stepped.Problem?.Message, reused.Problem?.Message);
        Assert.Equal(stepped.Steps.Length, reused.Steps.Length);
        for (var i = 0; i < stepped.Steps.Length; i++)
        {
            Assert.Equal(stepped.Steps[i].ModelOutcome, reused.Steps[i].ModelOutcome);
            Assert.Equal(stepped.Steps[i].ImplOutcome, reused.Steps[i].ImplOutcome);
        }
    }

    [Fact]
    public void Judged_with_the_generators_steps_or_without_them_a_trace_gets_the_same_report()
    {
        foreach (var trace in Traces(TraceGenSettings.Default, 150)) SameReports(trace);
    }

    [Fact]
    public void The_same_holds_for_traces_a_seeded_bug_fails()
    {
        var failing = 0;
        foreach (var trace in Traces(TraceGenSettings.WithBug("release_frees_domains_before_driver_release"), 150))
        {
            SameReports(trace);
            if (!Executor.Run(trace).Conformant) failing++;
        }
        Assert.True(failing > 0, "no trace failed: the failing side of the comparison went untested");
    }

    [Fact]
    public void A_step_is_reused_only_on_the_very_state_and_operation_the_generator_stepped()
    {
        var trace = Traces(TraceGenSettings.Default, 20).First(t => t.Steps.Length > 2);
        var trail = ModelTrail.Of(trace)!;
        var op = trace.Steps[0].Op;
        Assert.NotNull(trail.Known(0, trail.Initial, op));
        var equal = ModelState.Initial(trace.Config, trace.Topology);
        Assert.Equal(trail.Initial, equal);
        Assert.Null(trail.Known(0, equal, op));                                  // an equal state is not the same state
        Assert.Null(trail.Known(0, trail.Initial, op with { }));                 // nor an equal operation
        Assert.Null(trail.Known(1, trail.Initial, op));                          // nor another step's
        Assert.Null(trail.Known(trace.Steps.Length, trail.Initial, op));
    }
}
