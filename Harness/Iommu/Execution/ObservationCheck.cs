using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// State conformance: after a step, what the contract's read-only operations (<c>get_domain</c>,
/// <c>group_type_read</c>) answer must agree on both sides for every device whose answers the step could have
/// changed: the devices the implementation touched, and the members of the groups the step's device (or bus) was in
/// before and after, on the model's side. A step that silently moves a group to the wrong domain or type fails where
/// it happens. Per step the implementation's answers are read off the harness's view (<see cref="StateAnswers"/>);
/// a sweep compares every device, and the last step's sweep asks each through the implementation's own read path.
/// Both reads change nothing.
/// </summary>
public sealed class ObservationCheck(IommuRun run) : IStepCheck
{
    private readonly HashSet<string> _devices = new(StringComparer.Ordinal);

    public string Name => "observations";

    public Problem? Check(StepContext step)
    {
        if (!step.Checked) return null;
        var model = run.Model;
        if (!step.Sweep && run.View.Version == run.ObservationsAgreedAt && ReferenceEquals(model.Before, model.State)
            && run.Implementation.ReadsFollowSnapshots && model.ReadsFollowState)
            return null; // neither side moved since the answers last agreed (IommuRun.ObservationsAgreedAt)
        _devices.Clear();
        if (step.Sweep) _devices.UnionWith(run.View.DeviceNames);
        else
        {
            foreach (var d in run.Scope.Devices) _devices.Add(d);
            AddModelSide(step.Op);
        }
        var name = Name + (step.Sweep && step.Mode == CheckMode.Incremental ? " (sweep)" : "");
        // The read path itself is asked for every device at the last step (in full mode at every step); the sweeps in
        // between compare every device's answers off the view.
        var lastStep = step.Mode == CheckMode.Full || step.Index == run.Trace.Steps.Length - 1;
        var direct = (step.Sweep && lastStep) || !run.Implementation.ReadsFollowSnapshots;
        var quick = !direct && run.Model.ReadsFollowState;
        foreach (var device in _devices)
        {
            // Both sides' answers as plain strings; outcomes are built only to describe a difference.
            if (quick && QuickAgree(device)) continue;
            if (Differs(new GetDomain(device), name, direct) is { } p1) return p1;
            if (Differs(new GroupTypeRead(device), name, direct) is { } p2) return p2;
        }
        run.ObservationsAgreedAt = run.View.Version;
        return null;
    }

    private bool QuickAgree(string device)
    {
        return StateAnswers.Answers(run.View, device) == run.Model.State.Answers(device);
    }

    /// <summary>The devices whose answers the model may have changed: the step's device, bus, and their groups' members.</summary>
    private void AddModelSide(Operation op)
    {
        var (before, after) = (run.Model.Before, run.Model.State);
        if (ReferenceEquals(before, after)) return;
        var spec = op.Spec;
        var values = run.Values(op);
        for (var i = 0; i < values.Length; i++)
        {
            if (spec.Args[i].Kind != Contract.Vocabulary.ArgKind.Ref || values[i].Text is not { } name) continue;
            if (spec.Args[i].Space == Spaces.Device)
            {
                _devices.Add(name);
                AddAll(before.GroupMembers(name));
                AddAll(after.GroupMembers(name));
            }
            else if (spec.Args[i].Space == Spaces.Bus)
                foreach (var d in run.Trace.Topology.Devices)
                    if (d.Bus == name) { _devices.Add(d.Name); AddAll(after.GroupMembers(d.Name)); }
        }
    }

    private void AddAll(IReadOnlyList<string> devices)
    {
        for (var i = 0; i < devices.Count; i++) _devices.Add(devices[i]);
    }

    private Problem? Differs(Operation read, string name, bool throughTheSystem)
    {
        Outcome observed;
        try
        {
            observed = !throughTheSystem ? ReadView(read) : run.Implementation.Execute(read);
        }
        catch (Exception e)
        {
            return Problem.Threw(name, $"in {read} observing the state after the step", e);
        }
        var expected = run.Model.Read(read);
        return expected.Equals(observed) ? null
            : new Problem(ProblemKind.Divergence, name, $"{OutcomeCheck.Differences(expected, observed)} — observed after the step by {read}");
    }

    private Outcome ReadView(Operation read) => read switch
    {
        GetDomain g => StateAnswers.GetDomain(run.View, g.Dev),
        GroupTypeRead r => StateAnswers.GroupTypeRead(run.View, r.Dev),
        _ => throw new ArgumentOutOfRangeException(nameof(read), read, "not an observation"),
    };
}
