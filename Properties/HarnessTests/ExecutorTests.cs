using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

public class ExecutorTests
{
    private static readonly Trace AllocAttach = Fixtures.Small(
        new(new Probe("rd")),
        new(new DomainAllocPaging("rd", "d1")),
        new(new AttachDevice("d1", "rd")),
        new(new GetDomain("rd")));

    [Fact]
    public void A_faithful_implementation_is_conformant()
    {
        var trace = Fixtures.EveryOperation() with { Steps = [.. Fixtures.EveryOperation().Steps.Select(s => s with { Expect = null })] };
        var report = Models.Run(trace, () => Models.For(trace), () => new ModelEcho(trace));
        Assert.Equal(Verdict.Conformant, report.Verdict);
        Assert.Equal(trace.Steps.Length, report.Steps.Length);
        Assert.All(report.Steps, s => Assert.True(s.Ok));
        Assert.Null(report.FailingIndex);
    }

    /// <summary>Answers like the model, except every get_domain: a wrong value and a warning.</summary>
    private static IIommuSystem LiesAboutGetDomain()
    {
        var echo = new ModelEcho(AllocAttach);
        return new Scripted(op => op is GetDomain ? Outcome.OkWith("default").WithWarnings(["x"]) : echo.Execute(op), Fixtures.EmptySnapshot());
    }

    [Fact]
    public void A_divergence_stops_the_run_and_says_which_part_differs()
    {
        // Without observations, so that the lie is met at the trace's own get_domain (step 4).
        var report = Models.Run(AllocAttach, () => Models.For(AllocAttach), LiesAboutGetDomain, ExecutorChecks.Outcomes | ExecutorChecks.Invariants);
        Assert.Equal(Verdict.Diverged, report.Verdict);
        Assert.Equal(3, report.FailingIndex);
        Assert.Equal("DIVERGED", report.Steps[^1].Label);
        Assert.Contains("value differs: model \"d1\", implementation \"default\"", report.Problem!.Message);
        Assert.Contains("warnings differ", report.Problem!.Message);
        Assert.DoesNotContain("errno differs", report.Problem!.Message);
    }

    [Fact]
    public void Observations_catch_a_wrong_state_at_the_step_that_made_it()
    {
        var report = Models.Run(AllocAttach, () => Models.For(AllocAttach), LiesAboutGetDomain, ExecutorChecks.Observations);
        Assert.Equal(Verdict.Diverged, report.Verdict);
        Assert.Equal(0, report.FailingIndex);
        Assert.Contains("observed after the step by get_domain", report.Problem!.Message);
    }

    [Fact]
    public void An_implementation_exception_is_a_divergence()
    {
        var report = Models.Run(AllocAttach, () => Models.For(AllocAttach),
            () => new Scripted(_ => throw new InvalidOperationException("boom"), Fixtures.EmptySnapshot()));
        Assert.Equal(Verdict.Diverged, report.Verdict);
        Assert.Null(report.Steps[0].ImplOutcome);
        Assert.Equal(ProblemKind.Threw, report.Problem!.Kind);
        Assert.Contains("threw InvalidOperationException in probe: boom", report.Problem.Message);
    }

    [Fact]
    public void A_wrong_expect_is_an_expect_mismatch()
    {
        var trace = Fixtures.Small(new(new Probe("dev0")), new(new Probe("bare"), new Expect(Errno.OK)), new(new Probe("dev1")));
        var report = Models.Run(trace, () => Models.For(trace), () => new ModelEcho(trace));
        Assert.Equal(Verdict.ExpectMismatch, report.Verdict);
        Assert.Equal(1, report.FailingIndex);
        Assert.Equal("EXPECT", report.Steps[^1].Label);
        Assert.Contains("the model answered ENODEV", report.Problem!.Message);
    }

    [Fact]
    public void C22_fires_even_when_the_model_agrees()
    {
        var snapshot = Fixtures.GoodSnapshot().WithDevice("rd", d => d with { GroupId = 2, Context = new(Implementations.HwContextKind.Bypass, null) }) with
        {
            Groups = [.. Fixtures.GoodSnapshot().Groups, new(2, "smmu0", "g1", ["rd"], 12, 12, 11, null, 0, 1)],
            Domains = [.. Fixtures.GoodSnapshot().Domains, new(12, "identity", "smmuv3", null, null, true, null)],
        };
        var report = Models.Run(AllocAttach, () => new ScriptedModel(AllocAttach, op => op is AttachDevice ? Outcome.Of(Errno.EINVAL) : Outcome.Ok),
            () => new Scripted(op => op is AttachDevice ? Outcome.Of(Errno.EINVAL) : Outcome.Ok, snapshot));
        Assert.Equal(Verdict.Diverged, report.Verdict);
        Assert.True(report.FailingIndex == 2, report.Problem?.Message);
        Assert.Equal("INVARIANT", report.Steps[^1].Label);
        Assert.StartsWith("c.22:", report.Problem!.Message);
    }

    [Fact]
    public void A_failed_step_that_changes_state_breaks_c10()
    {
        var trace = Fixtures.Small(new TraceStep(new Probe("bare")));
        var good = Fixtures.GoodSnapshot();
        var changed = good.WithDevice("bare", d => d with { DriverBound = true });
        var report = Models.Run(trace, () => new ScriptedModel(trace, _ => Outcome.Of(Errno.ENODEV)), () => new Scripted(_ => Outcome.Of(Errno.ENODEV), good, changed));
        Assert.Equal(Verdict.Diverged, report.Verdict);
        Assert.StartsWith("c.10:", report.Problem!.Message);
    }

    [Fact]
    public void Invariants_are_checked_after_every_step()
    {
        var trace = Fixtures.Small(new(new Probe("dev0")), new(new Probe("dev1")));
        var leaked = Fixtures.EmptySnapshot() with { Groups = [new(3, "smmu0", "g0", [], null, null, null, null, 0, 1)] };
        var report = Models.Run(trace, () => new ScriptedModel(trace, _ => Outcome.Ok), () => new Scripted(_ => Outcome.Ok, Fixtures.EmptySnapshot(), Fixtures.EmptySnapshot(), leaked));
        Assert.True(report.FailingIndex == 1, report.Problem?.Message);
        Assert.StartsWith("c.6:", report.Problem!.Message);
    }
}
