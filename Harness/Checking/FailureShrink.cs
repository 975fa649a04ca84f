using FsCheck.Fluent;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Checking;

/// <summary>
/// Shrinks one failing trace of a campaign with the suite's shrinker and shrink cache: a one-case property run over
/// the constant trace, so that FsCheck's shrink loop, <see cref="TraceShrinker"/> and the cache are the very ones of
/// every property. Deterministic: the same trace always shrinks to the same one.
/// </summary>
public static class FailureShrink
{
    /// <summary>The shrunk failure, titled <paramref name="title"/>.</summary>
    public static ShrunkTrace Shrink(Trace trace, RunReport failing, string title, CampaignPlan plan)
    {
        var settings = new CheckSettings(MaxTest: 1, EndSize: plan.EndSize, Seed: plan.Seed, Gamma: plan.Gamma);
        var result = PropertyCheck.Run(Arb.From(Gen.Constant(trace), TraceShrinker.Shrink), settings,
            t => Executor.Run(t), (t, knownGood) => Executor.RunFullAfter(t, knownGood));
        var shrunk = result.Shrunk ?? failing;
        var titled = shrunk with { Trace = shrunk.Trace with { Title = title } };
        var json = TraceJson.Write(TraceJson.WithModelExpects(titled));
        return new ShrunkTrace(0, failing.Steps.Length, titled.Trace.Steps.Length, result.StepsChecked, titled.Problem?.Message ?? "", json)
        {
            Report = titled,
        };
    }
}
