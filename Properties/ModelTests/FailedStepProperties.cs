using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// On generated traces, every model step that fails answers with the very state it ran on (the immutable-state
/// convention that makes c.10 "nothing changed" checkable on the model side), and a judged step adopts the state
/// the plain step computes.
/// </summary>
public class FailedStepProperties
{
    [Fact]
    public void A_failed_step_returns_the_same_state_instance()
    {
        var failed = 0;
        var property = Prop.ForAll(Arb.From(TraceGen.Trace(TraceGenSettings.Default)), trace =>
        {
            var state = ModelState.Initial(trace.Config, trace.Topology);
            foreach (var step in trace.Steps)
            {
                var result = state.Step(step.Op);
                var judged = state.Judge(step.Op, result.Outcome);
                if (!judged.Allowed || !judged.Next.Equals(result.Next) || judged.Next.GetHashCode() != result.Next.GetHashCode())
                    return false.Label($"judging {step.Op} disagrees with stepping it");
                // bus_iommu_probe() is not atomic: an aborted bus probe keeps what it did (docs/operations.md).
                if (result.Outcome.Errno != Errno.OK && step.Op is not BusProbe)
                {
                    failed++;
                    if (!ReferenceEquals(result.Next, state)) return false.Label($"{step.Op} failed ({result.Outcome}) but changed the state");
                }
                state = result.Next;
            }
            return true.Label("ok");
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300)
            .WithReplay(Microsoft.FSharp.Core.FSharpOption<Replay>.Some(new Replay(new Rnd(20261201UL, 0x9E3779B97F4A7C15UL), Microsoft.FSharp.Core.FSharpOption<int>.None))),
            property);
        Assert.True(failed > 100, $"only {failed} failed steps were generated: the property checked too little");
    }
}
