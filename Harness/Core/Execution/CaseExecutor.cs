using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Execution;

/// <summary>
/// Runs a case step by step: the system answers, the model judges, the pipeline checks; the run stops at the first
/// problem. In incremental mode a problem found by a sweep does not tell which step caused it, so the case is run
/// again in full mode, which checks everything after every step and so names the step.
/// </summary>
public static class CaseExecutor
{
    public static RunReport<TCase> Run<TCase>(TCase trace, IRunBinding<TCase> binding, CheckMode mode = CheckMode.Incremental)
        where TCase : ICase<TCase>
    {
        var report = RunOnce(trace, binding, mode, uncheckedPrefix: 0);
        if (mode == CheckMode.Incremental && report.Problem is { } p && FoundBySweep(report))
        {
            var full = RunOnce(trace, binding, CheckMode.Full, uncheckedPrefix: 0);
            if (!full.Conformant) return full;
            // A full run always sees what a sweep sees; if not, the checks depend on the mode: report both.
            return report with { Problem = p with { Message = p.Message + " (full per-step checks did not reproduce it: a suite bug)" } };
        }
        return report;
    }

    /// <summary>
    /// Runs in full mode, but only executes (without checking) the first <paramref name="knownGood"/> steps: the
    /// caller knows they pass, because an earlier run of a case with the same machine and the same first steps
    /// passed them. The shrinker's prefix cache.
    /// </summary>
    public static RunReport<TCase> RunFullAfter<TCase>(TCase trace, IRunBinding<TCase> binding, int knownGood)
        where TCase : ICase<TCase> => RunOnce(trace, binding, CheckMode.Full, knownGood);

    private static bool FoundBySweep<TCase>(RunReport<TCase> report) =>
        report.Problem is { Kind: ProblemKind.Invariant or ProblemKind.Unreported or ProblemKind.Divergence } p
        && p.Check.EndsWith("(sweep)", StringComparison.Ordinal);

    private static RunReport<TCase> RunOnce<TCase>(TCase trace, IRunBinding<TCase> binding, CheckMode mode, int uncheckedPrefix)
        where TCase : ICase<TCase>
    {
        RunSetup run;
        try
        {
            run = binding.Start(trace, mode);
        }
        catch (Exception e)
        {
            return new RunReport<TCase>(trace, [], Verdict.Diverged, Problem.Threw("start", "while being created", e));
        }
        var steps = trace.Steps;
        var reports = new List<StepReport>(steps.Length);
        var context = new StepContext { Mode = mode };
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            Outcome observed;
            try
            {
                observed = run.System.Execute(step.Op);
            }
            catch (Exception e)
            {
                var predicted = run.Model.Judge(step.Op, Outcome.Ok).Expected;
                reports.Add(new StepReport(i, step.Op, predicted, null, Problem.Threw("execute", $"in {step.Op.Name}", e)));
                return Stop(trace, reports);
            }
            var judgement = run.Model.Judge(step.Op, observed);
            context.Index = i;
            context.Step = step;
            context.Observed = observed;
            context.Judgement = judgement;
            context.Checked = i >= uncheckedPrefix;
            context.Sweep = mode == CheckMode.Full || (run.SweepAtEnd && i == steps.Length - 1)
                || (run.SweepDue?.Invoke(i) ?? (i + 1) % run.SweepEvery == 0);
            // Every check sees every step (they keep history); a step of a known-good prefix reports nothing.
            Problem? problem = null;
            var checks = run.Checks;
            for (var c = 0; c < checks.Count; c++)
            {
                var found = checks[c].Check(context);
                if (found is null || !context.Checked) continue;
                problem = found;
                break;
            }
            reports.Add(new StepReport(i, step.Op, judgement.Expected, observed, problem));
            if (problem is not null) return Stop(trace, reports);
        }
        return new RunReport<TCase>(trace, [.. reports], Verdict.Conformant, null);
    }

    private static RunReport<TCase> Stop<TCase>(TCase trace, List<StepReport> reports)
    {
        var failing = reports[^1];
        var verdict = failing.Problem!.Kind == ProblemKind.Expect ? Verdict.ExpectMismatch : Verdict.Diverged;
        return new RunReport<TCase>(trace, [.. reports], verdict, failing.Problem);
    }
}
