using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Model;
using IommuConformance.Model.State;
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
        var leftovers = 0;
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
                    if (!ReferenceEquals(result.Next, state) && !OnlyHardwareMoved(state, result.Next))
                        return false.Label($"{step.Op} failed ({result.Outcome}) but changed the state");
                    if (!ReferenceEquals(result.Next, state)) leftovers++;
                }
                state = result.Next;
            }
            return true.Label("ok");
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300)
            .WithReplay(Microsoft.FSharp.Core.FSharpOption<Replay>.Some(new Replay(new Rnd(20261201UL, 0x9E3779B97F4A7C15UL), Microsoft.FSharp.Core.FSharpOption<int>.None))),
            property);
        Assert.True(failed > 100, $"only {failed} failed steps were generated: the property checked too little");
        Assert.True(leftovers < failed / 10, $"{leftovers} of {failed} failed steps left something behind");
    }

    /// <summary>
    /// The documented leftovers of a failed switch (docs/operations.md): a member that refused the revert keeps the
    /// domain it had taken, and a refused switch of a group without a domain is not reverted — only what the members'
    /// hardware is on (<see cref="GroupState.Lagging"/>) changed, and a refused first attach in a group that keeps other
    /// members leaves it its new default. Anything else is a change.
    /// </summary>
    internal static bool OnlyHardwareMoved(ModelState before, ModelState after)
    {
        if (!before.LiveDomains.SequenceEqual(after.LiveDomains) || before.Groups.Count != after.Groups.Count) return false;
        foreach (var (id, g) in before.Groups)
        {
            if (!after.Groups.TryGetValue(id, out var a)) return false;
            var kept = g is { Default: null, Current: null } && a.Current == DomainRef.Default ? g with { Default = a.Default, Current = a.Current } : g;
            if (!(kept with { Lagging = GroupState.NoLag }).Equals(a with { Lagging = GroupState.NoLag })) return false;
        }
        return before.Machine.Topology.Devices.All(d => before.IsBound(d.Name) == after.IsBound(d.Name));
    }
}
