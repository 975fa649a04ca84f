using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Invariants;
using IommuConformance.Implementations;
using IommuConformance.Model;
using Xunit;
using Outcome = IommuConformance.Contract.Outcome;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The per-step observations read both sides through shortcuts: the implementation's answers off the harness's view
/// (<see cref="StateAnswers"/>, <c>ReadsFollowSnapshots</c>) and the model's off its state's queries
/// (<c>ReadsFollowState</c>). On generated traces, after every step and for every device, each shortcut answers
/// exactly what the side's own read operation answers; otherwise a read-path divergence would be seen only at the
/// last step's sweep.
/// </summary>
public class ReadShortcutProperties
{
    [Fact]
    public void Read_shortcuts_answer_what_the_reads_answer()
    {
        var compared = 0;
        var property = Prop.ForAll(Arb.From(TraceGen.Trace(TraceGenSettings.Default)), trace =>
        {
            var model = new ModelJudge(ModelState.Initial(trace.Config, trace.Topology));
            var system = IommuSystem.Create(trace.Config, trace.Topology, trace.Bugs);
            var view = new StateView();
            foreach (var step in trace.Steps)
            {
                model.Judge(step.Op, system.Execute(step.Op));
                view.Load(system.Snapshot());
                foreach (var device in trace.Topology.Devices.Select(d => d.Name))
                {
                    compared++;
                    var domain = new GetDomain(device);
                    var type = new GroupTypeRead(device);
                    if (!StateAnswers.GetDomain(view, device).Equals(system.Execute(domain)))
                        return false.Label($"after {step.Op}: the view answers {StateAnswers.GetDomain(view, device)} for {domain}, the implementation {system.Execute(domain)}");
                    if (!StateAnswers.GroupTypeRead(view, device).Equals(system.Execute(type)))
                        return false.Label($"after {step.Op}: the view answers {StateAnswers.GroupTypeRead(view, device)} for {type}, the implementation {system.Execute(type)}");
                    if (!Outcome.OkWith(model.State.CurrentDomain(device)).Equals(model.Read(domain)))
                        return false.Label($"after {step.Op}: CurrentDomain({device}) is {model.State.CurrentDomain(device)}, the model's {domain} {model.Read(domain)}");
                    var expectedType = model.State.GroupType(device) is { } t ? Outcome.OkWith(t) : Outcome.Of(Errno.ENODEV);
                    if (!expectedType.Equals(model.Read(type)))
                        return false.Label($"after {step.Op}: GroupType({device}) is {expectedType}, the model's {type} {model.Read(type)}");
                }
            }
            return true.Label("ok");
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200)
            .WithReplay(Microsoft.FSharp.Core.FSharpOption<Replay>.Some(new Replay(new Rnd(20261201UL, 0x9E3779B97F4A7C15UL), Microsoft.FSharp.Core.FSharpOption<int>.None))),
            property);
        Assert.True(compared > 10_000, $"only {compared} answers were compared: the property checked too little");
    }

    [Fact]
    public void The_project_sides_declare_their_shortcuts()
    {
        var trace = Fixtures.Small();
        var (model, system) = IommuBinding.ProjectSides(trace);
        Assert.True(model.ReadsFollowState);
        Assert.True(system.ReadsFollowSnapshots);
    }
}
