using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// State conformance: after a step, the contract's read-only operations (<c>get_domain</c>,
/// <c>group_type_read</c>) are asked on both sides of every device whose answers the step could have changed
/// (what the implementation touched and what the model changed; every device at a sweep) and must answer alike,
/// so a step that silently moves a group to the wrong domain or type fails where it happens. Both reads change
/// nothing on either side.
/// </summary>
public sealed class ObservationCheck(IommuRun run) : IStepCheck
{
    private readonly HashSet<string> _devices = new(StringComparer.Ordinal);

    public string Name => "observations";

    public Problem? Check(StepContext step)
    {
        if (!step.Checked) return null;
        _devices.Clear();
        if (step.Sweep) _devices.UnionWith(run.View.DeviceNames);
        else
        {
            _devices.UnionWith(run.Scope.Devices);
            _devices.UnionWith(run.Model.State.DevicesChangedSince(run.Model.Before));
        }
        var name = Name + (step.Sweep && step.Mode == CheckMode.Incremental ? " (sweep)" : "");
        foreach (var device in _devices)
        {
            if (Differs(new GetDomain(device), name) is { } p1) return p1;
            if (Differs(new GroupTypeRead(device), name) is { } p2) return p2;
        }
        return null;
    }

    private Problem? Differs(Operation read, string name)
    {
        Outcome observed;
        try
        {
            observed = run.Implementation.Execute(read);
        }
        catch (Exception e)
        {
            return Problem.Threw(name, $"in {read} observing the state after the step", e);
        }
        var expected = run.Model.Read(read);
        return expected.Equals(observed) ? null
            : new Problem(ProblemKind.Divergence, name, $"{OutcomeCheck.Differences(expected, observed)} — observed after the step by {read}");
    }
}
