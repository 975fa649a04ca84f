using Stopwatch = System.Diagnostics.Stopwatch;
using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Harness.Checking;

/// <summary>What one property run found: counts, speed, and the shrunk failing run if there was one.</summary>
public sealed record CheckResult(
    bool Failed, int Tests, int Shrinks, long StepsChecked, TimeSpan Elapsed, RunReport? Shrunk, string Replay)
{
    public double StepsPerSecond => StepsChecked / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Runs a trace property through FsCheck (generation, then shrinking with the trace arbitrary's shrinker) and
/// returns what it found instead of throwing, so that tests can assert that a seeded bug IS found. The last
/// failing run evaluated is the shrunk one: FsCheck stops shrinking when no candidate fails any more.
/// </summary>
public static class PropertyCheck
{
    /// <summary>
    /// The default trace property with one seeded bug switched on, checked with <paramref name="checks"/> (all by
    /// default): what the bug tests and the Runner's <c>hunt</c> run.
    /// </summary>
    public static CheckResult Hunt(string bug, CheckSettings settings, ExecutorChecks checks = ExecutorChecks.All) =>
        Run(TraceGen.Arbitrary(TraceGenSettings.WithBug(bug)), settings, trace => Executor.Run(trace, checks));

    public static CheckResult Run(Arbitrary<Trace> traces, CheckSettings settings, Func<Trace, RunReport> check) =>
        Run<Trace>(traces, settings, check);

    /// <summary>The same for any generated case; <paramref name="check"/> answers null when a case is vacuous.</summary>
    public static CheckResult Run<T>(Arbitrary<T> cases, CheckSettings settings, Func<T, RunReport?> check)
    {
        RunReport? lastFailure = null;
        long steps = 0;
        var property = Prop.ForAll(cases, (T value) =>
        {
            if (check(value) is not { } report) return true;
            steps += report.Steps.Length;
            if (!report.Conformant) lastFailure = report;
            return report.Conformant;
        });
        var runner = new CapturingRunner();
        var config = Config.Quick
            .WithMaxTest(settings.MaxTest)
            .WithEndSize(settings.EndSize)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(settings.Seed, settings.Gamma), FSharpOption<int>.None)))
            .WithRunner(runner);
        var clock = Stopwatch.StartNew();
        Check.One(config, property);
        clock.Stop();
        var failed = runner.Result is { IsFailed: true };
        return new CheckResult(failed, runner.Tests, runner.Shrinks, steps, clock.Elapsed,
            failed ? lastFailure : null, settings.Replay);
    }

    /// <summary>Keeps FsCheck's verdict and counts; prints nothing.</summary>
    private sealed class CapturingRunner : IRunner
    {
        public TestResult? Result { get; private set; }
        public int Tests { get; private set; }
        public int Shrinks { get; private set; }

        public void OnStartFixture(Type type) { }

        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every) =>
            Tests++;

        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink) => Shrinks++;

        public void OnFinished(string name, TestResult testResult) => Result = testResult;
    }
}
