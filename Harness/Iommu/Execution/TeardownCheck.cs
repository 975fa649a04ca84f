using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// c.19's "after domain free, everything is gone", after the last step of every trace: once every other check of that
/// step passed, the implementation releases every device and frees every handle (<see cref="IIovaView.TearDownAndAudit"/>),
/// and everything it allocated must have come back. The model is not asked: nothing it answers follows a teardown. Runs
/// once per trace, so it costs a trace's worth of releases and nothing per step.
/// </summary>
public sealed class TeardownCheck(IommuRun run) : IStepCheck
{
    public string Name => "teardown";

    public Problem? Check(StepContext step)
    {
        if (!step.Checked || step.Index != run.Trace.Steps.Length - 1 || run.Implementation is not IIovaView view) return null;
        string? leak;
        try
        {
            leak = view.TearDownAndAudit();
        }
        catch (Exception e)
        {
            return Problem.Threw(Name, "while tearing the machine down after the last step", e);
        }
        return leak is null ? null : new Problem(ProblemKind.Invariant, Name, "c.19: after the teardown that ends the trace, " + leak);
    }
}
