using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// What the implementation reports as touched is a hint: a change it does not report is caught by a sweep, and the
/// run is then repeated with full per-step checks to name the step. Shown with the seeded bug stream_table_alias,
/// whose STE writes also land in a colliding device's slot without being reported.
/// </summary>
public class SweepTests
{
    private static Trace AliasTrace(int fillers)
    {
        var trace = TraceJson.ReadFile(Path.Combine(SampleFiles.Root, "bugs", "stream_table_alias.json"));
        // Reads of dev1, which the alias never touches, push the sweep at the last step far from the culprit.
        var steps = trace.Steps.Take(1).Concat(Enumerable.Repeat(new TraceStep(new GetDomain("dev1")), fillers));
        return trace.WithSteps(steps);
    }

    [Fact]
    public void An_unreported_change_is_found_by_a_sweep_and_named_by_a_full_rerun()
    {
        var trace = AliasTrace(fillers: 10);
        var report = Executor.Run(trace);
        Assert.False(report.Conformant);
        Assert.Equal(0, report.FailingIndex);   // the probe that wrote the aliased STE, not the sweep at step 11
        Assert.Equal(ProblemKind.Unreported, report.Problem!.Kind);
        Assert.DoesNotContain("(sweep)", report.Problem.Check);
        Assert.Contains("device dev2", report.Problem.Message);
    }

    [Fact]
    public void Per_step_checks_alone_do_not_see_it_the_sweep_does()
    {
        var trace = AliasTrace(fillers: 10);
        // Incremental checks, but never a sweep: only the step's own touched objects are re-read.
        var blind = Harness.Core.Execution.CaseExecutor.Run(trace, new NoSweeps(), CheckMode.Incremental);
        Assert.True(blind.Conformant, blind.Problem?.Message);
        Assert.False(Executor.Run(trace.WithSteps(trace.Steps.Take(1))).Conformant);
    }

    [Fact]
    public void Without_the_bug_the_same_trace_is_conformant()
    {
        var trace = AliasTrace(fillers: 10) with { Bugs = [] };
        Assert.True(Executor.Run(trace).Conformant);
    }

    /// <summary>The default binding with no sweep at all.</summary>
    private sealed class NoSweeps : Harness.Core.Execution.IRunBinding<Trace>
    {
        public Harness.Core.Execution.RunSetup Start(Trace trace, CheckMode mode)
        {
            var setup = IommuBinding.Default.Start(trace, mode);
            return new Harness.Core.Execution.RunSetup
            {
                Model = setup.Model, System = setup.System, Checks = setup.Checks, SweepEvery = int.MaxValue, SweepAtEnd = false,
            };
        }
    }
}
