using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Shrinking;
using IommuConformance.Harness.Core.Steps;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Stopwatch = System.Diagnostics.Stopwatch;

namespace IommuConformance.Harness.Core.Checking;

/// <summary>
/// How a property checks cases. While FsCheck generates, <see cref="Check"/> runs each case (incrementally, as a
/// rule). After the first failure every evaluation is a shrink candidate: <see cref="CheckCandidate"/> runs it in
/// full mode, told how many leading steps are known good, through a <see cref="ShrinkCache{TCase}"/>; and
/// <see cref="Shrink"/> is told where the case it shrinks failed.
/// </summary>
public sealed class CaseProperty<TCase> where TCase : ICase<TCase>
{
    /// <summary>The run of a generated case; null when the case is vacuous.</summary>
    public required Func<TCase, RunReport<TCase>?> Check { get; init; }

    /// <summary>The full-mode run of a shrink candidate, checking only after the first <c>knownGood</c> steps; null: <see cref="Check"/>, memoised.</summary>
    public Func<TCase, int, RunReport<TCase>>? CheckCandidate { get; init; }

    /// <summary>Shrink candidates for a failing case and how many steps its failing run took; null: the arbitrary's shrinker.</summary>
    public Func<TCase, int?, IEnumerable<TCase>>? Shrink { get; init; }

    /// <summary>The usual property of a binding: incremental runs, full-mode candidates after their known-good prefix, this shrinker.</summary>
    public static CaseProperty<TCase> Of(IRunBinding<TCase> binding, CaseShrinker<TCase> shrinker) => new()
    {
        Check = c => CaseExecutor.Run(c, binding),
        CheckCandidate = (c, knownGood) => CaseExecutor.RunFullAfter(c, binding, knownGood),
        Shrink = shrinker.Shrink,
    };
}

/// <summary>
/// Runs a property through FsCheck (generation, then shrinking) and returns what it found instead of throwing, so
/// that tests can assert that a seeded failure IS found. The last failing run evaluated is the shrunk one: FsCheck
/// stops shrinking when no candidate fails any more.
/// </summary>
public static class PropertyRunner
{
    /// <summary>Cases checked as <paramref name="property"/> says, shrunk with the shrink cache.</summary>
    public static CheckResult<TCase> Run<TCase>(Arbitrary<TCase> cases, CheckSettings settings, CaseProperty<TCase> property)
        where TCase : ICase<TCase>
    {
        var cache = property.CheckCandidate is { } candidate
            ? new ShrinkCache<TCase>(candidate)
            : new ShrinkCache<TCase>((c, _) => property.Check(c), knownGoodPrefixes: false);
        var shrinking = false;
        var arbitrary = Arb.From(cases.Generator, c => property.Shrink is { } shrink ? shrink(c, cache.FailingSteps(c)) : cases.Shrinker(c));
        var result = Run(arbitrary, settings, (TCase c, Action onFirstFailure) =>
        {
            if (shrinking) return (cache.Run(c), 0);
            if (property.Check(c) is not { } report) return (null, 0);
            if (!report.Conformant)
            {
                shrinking = true;
                cache.Remember(c, report);
                onFirstFailure();
            }
            return (report, report.Steps.Length);
        });
        return result with { StepsChecked = result.StepsChecked + cache.StepsChecked, Shrinking = cache.Stats };
    }

    /// <summary>
    /// Any generated value, one run each (a value that is not itself a case: a case built from it); null when the
    /// value is vacuous. No shrink cache: values have no key.
    /// </summary>
    public static CheckResult<TCase> Run<TValue, TCase>(Arbitrary<TValue> values, CheckSettings settings, Func<TValue, RunReport<TCase>?> check)
        where TCase : ICase<TCase>
    {
        var shrinking = false;
        var candidates = 0;
        long candidateSteps = 0;
        var result = Run(values, settings, (TValue value, Action onFirstFailure) =>
        {
            if (shrinking) candidates++;
            if (check(value) is not { } report) return (null, 0);
            if (shrinking) candidateSteps += report.Steps.Length;
            else if (!report.Conformant)
            {
                shrinking = true;
                onFirstFailure();
            }
            return (report, shrinking ? 0 : report.Steps.Length);
        });
        return result with
        {
            StepsChecked = result.StepsChecked + candidateSteps,
            Shrinking = new ShrinkStats(candidates, 0, 0, candidateSteps, 0),
        };
    }

    /// <summary>The FsCheck run: <paramref name="evaluate"/> answers a report (null: vacuous) and the steps to count.</summary>
    private static CheckResult<TCase> Run<TValue, TCase>(
        Arbitrary<TValue> values, CheckSettings settings, Func<TValue, Action, (RunReport<TCase>? Report, int Steps)> evaluate)
        where TCase : ICase<TCase>
    {
        RunReport<TCase>? lastFailure = null;
        int? firstFailureSteps = null;
        // One clock for both figures, so that the shrink time can never exceed the whole (two stopwatches stopped one
        // after the other could, when the thread is preempted between the two stops).
        var clock = new Stopwatch();
        TimeSpan? firstFailureAt = null;
        long steps = 0;
        var property = Prop.ForAll(values, (TValue value) =>
        {
            var (report, counted) = evaluate(value, () => firstFailureAt ??= clock.Elapsed);
            if (report is null) return true;
            steps += counted;
            if (!report.Conformant)
            {
                lastFailure = report;
                firstFailureSteps ??= report.Trace.Steps.Length;
            }
            return report.Conformant;
        });
        var runner = new CapturingRunner();
        var config = ConfigFor(settings, runner);
        clock.Start();
        Check.One(config, property);
        clock.Stop();
        var failed = runner.Result is { IsFailed: true };
        return new CheckResult<TCase>(failed, runner.Tests, runner.Shrinks, steps, clock.Elapsed, failed ? lastFailure : null, settings.Replay)
        {
            ShrinkElapsed = firstFailureAt is { } at ? clock.Elapsed - at : TimeSpan.Zero,
            FirstFailureSteps = firstFailureSteps,
        };
    }

    /// <summary>The FsCheck configuration of a run: its count, size, replay seed, and a runner that keeps the verdict.</summary>
    internal static Config ConfigFor(CheckSettings settings, IRunner runner) => Config.Quick
        .WithMaxTest(settings.MaxTest)
        .WithEndSize(settings.EndSize)
        .WithQuietOnSuccess(true)
        .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(settings.Seed, settings.Gamma), FSharpOption<int>.None)))
        .WithRunner(runner);
}
