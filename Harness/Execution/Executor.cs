using IommuConformance.Contract;
using IommuConformance.Harness.Invariants;
using IommuConformance.Harness.Traces;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Harness.Execution;

/// <summary>
/// Runs a trace on the model and the implementation side by side, compares every outcome, checks the
/// structural invariants after every step, and stops at the first failure. Per step, in this order:
/// the trace's <c>expect</c> against the model (a wrong expect makes the model's word moot: exit 2), c.22 (fresh
/// domain answered EINVAL, even if the model agrees), the outcomes, c.10 (a failed step changed nothing), the
/// structural invariants, then the observations (get_domain and group_type_read of every device answer alike).
/// Snapshots are taken once per step and serialised only for failed steps.
/// </summary>
public static class Executor
{
    /// <summary>Runs on the project's <see cref="ModelState"/> and <see cref="IommuSystem"/>.</summary>
    public static RunReport Run(Trace trace) => Run(trace, ExecutorChecks.All);

    /// <summary>The same, with only the chosen checks (properties that test one kind of check alone).</summary>
    public static RunReport Run(Trace trace, ExecutorChecks checks)
    {
        var model = new ModelReference(ModelState.Initial(trace.Config, trace.Topology));
        IommuSystem system;
        try
        {
            system = IommuSystem.Create(trace.Config, trace.Topology, trace.Bugs);
        }
        catch (Exception e)
        {
            return new RunReport(trace, [], Verdict.Diverged, Problems.Threw("while being created", e));
        }
        return Run(trace, model, new ImplementationUnderTest(system), checks);
    }

    /// <summary>Runs on any pair of sides (tests use fakes).</summary>
    public static RunReport Run(
        Trace trace, IReferenceModel model, ISystemUnderTest implementation, ExecutorChecks checks = ExecutorChecks.All)
    {
        var outcomes = checks.HasFlag(ExecutorChecks.Outcomes);
        var invariants = checks.HasFlag(ExecutorChecks.Invariants);
        var observations = checks.HasFlag(ExecutorChecks.Observations);
        var context = new InvariantContext(trace.Topology);
        var fresh = new FreshDomains();
        var reports = new List<StepReport>(trace.Steps.Length);
        SystemSnapshot before;
        try
        {
            before = implementation.Snapshot();
        }
        catch (Exception e)
        {
            return new RunReport(trace, [], Verdict.Diverged, Problems.Threw("in Snapshot() before the first step", e));
        }

        for (var i = 0; i < trace.Steps.Length; i++)
        {
            var step = trace.Steps[i];
            var modelOutcome = model.Step(step.Op);
            Outcome implOutcome;
            SystemSnapshot after;
            try
            {
                implOutcome = implementation.Execute(step.Op);
            }
            catch (Exception e)
            {
                return Stop(trace, reports, new StepReport(i, step.Op, modelOutcome, null, Problems.Threw("in Execute", e)), Verdict.Diverged);
            }

            if (step.Expect is { } expect && !expect.Admits(modelOutcome))
                return Stop(trace, reports, new StepReport(i, step.Op, modelOutcome, implOutcome,
                    Problems.ExpectFailed(expect, modelOutcome)), Verdict.ExpectMismatch);

            var problem = invariants && fresh.Violation(step.Op, implOutcome, before) is { } c22
                ? Problems.Invariant(c22)
                : outcomes ? Problems.Divergence(modelOutcome, implOutcome) : null;
            if (problem is null)
            {
                try
                {
                    after = implementation.Snapshot();
                }
                catch (Exception e)
                {
                    return Stop(trace, reports, new StepReport(i, step.Op, modelOutcome, implOutcome,
                        Problems.Threw("in Snapshot()", e)), Verdict.Diverged);
                }
                // Without the outcome comparison, atomicity is judged by the implementation's own answer.
                var failed = (outcomes ? modelOutcome : implOutcome).Errno != Errno.OK;
                if (invariants && failed && Atomicity.Violation(before, after) is { } c10)
                    problem = Problems.Invariant(c10);
                InvariantWaivers.Observe(context, step.Op, implOutcome, before);
                if (invariants && problem is null && InvariantChecker.FirstViolation(after, context) is { } violation)
                    problem = Problems.Invariant(violation);
                if (observations && problem is null)
                    problem = Observations.Divergence(trace.Topology, model, implementation);
                fresh.Record(step.Op, implOutcome);
                before = after;
            }

            var report = new StepReport(i, step.Op, modelOutcome, implOutcome, problem);
            if (problem is not null) return Stop(trace, reports, report, Verdict.Diverged);
            reports.Add(report);
        }
        return new RunReport(trace, [.. reports], Verdict.Conformant, null);
    }

    private static RunReport Stop(Trace trace, List<StepReport> reports, StepReport failing, Verdict verdict)
    {
        reports.Add(failing);
        return new RunReport(trace, [.. reports], verdict, failing.Problem);
    }
}
