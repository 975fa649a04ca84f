using FsCheck;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Checking;

/// <summary>
/// Trace properties through the generic <see cref="PropertyRunner"/>: generated traces run incrementally; after the
/// first failure, shrink candidates run in full mode through the shrink cache (memo and known-good prefixes) and
/// <see cref="TraceShrinker"/> is told where each failing trace failed.
/// </summary>
public static class PropertyCheck
{
    /// <summary>
    /// The default trace property with one seeded bug switched on, checked with <paramref name="checks"/> (all by
    /// default), generated with the bug's <see cref="HuntSettings"/>: what the bug tests and the Runner's <c>hunt</c> run.
    /// </summary>
    public static CheckResult Hunt(string bug, CheckSettings settings, ExecutorChecks checks = ExecutorChecks.All) =>
        Run(TraceGen.Arbitrary(HuntSettings.For(bug)), settings, checks);

    /// <summary>The trace property with <paramref name="checks"/>: the generator of <paramref name="traces"/>, <see cref="TraceShrinker"/>, the shrink cache.</summary>
    public static CheckResult Run(Arbitrary<Trace> traces, CheckSettings settings, ExecutorChecks checks) =>
        Run(traces, settings, trace => Executor.Run(trace, checks), (trace, knownGood) => Executor.RunFullAfter(trace, knownGood, checks));

    /// <summary>
    /// The same with a generation-time run of one's own (<paramref name="check"/>, e.g. one that counts coverage) and
    /// the full-mode run of shrink candidates after their known-good prefix (<paramref name="candidate"/>).
    /// </summary>
    public static CheckResult Run(Arbitrary<Trace> traces, CheckSettings settings, Func<Trace, RunReport> check, Func<Trace, int, RunReport> candidate) =>
        PropertyRunner.Run(traces, settings, new CaseProperty<Trace>
        {
            Check = check,
            CheckCandidate = candidate,
            Shrink = TraceShrinker.Shrink,
        });

    /// <summary>
    /// Traces checked by <paramref name="check"/> alone, generation and shrinking alike, shrunk by the arbitrary's own
    /// shrinker; candidates are memoised.
    /// </summary>
    public static CheckResult Run(Arbitrary<Trace> traces, CheckSettings settings, Func<Trace, RunReport> check) =>
        PropertyRunner.Run(traces, settings, new CaseProperty<Trace> { Check = check });

    /// <summary>The same for any generated value; <paramref name="check"/> answers null when a value is vacuous.</summary>
    public static CheckResult Run<T>(Arbitrary<T> cases, CheckSettings settings, Func<T, RunReport?> check) =>
        PropertyRunner.Run(cases, settings, check);
}
