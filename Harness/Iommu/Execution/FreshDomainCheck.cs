using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Invariants;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>c.22 (<see cref="FreshDomains"/>), judged on the state the step ran on: before the view is refreshed.</summary>
public sealed class FreshDomainCheck(IommuRun run) : IStepCheck
{
    private readonly FreshDomains _fresh = new();

    public string Name => "fresh domain";

    public Problem? Check(StepContext step)
    {
        var violation = step.Checked ? _fresh.Violation(step.Op, step.Observed, run.View) : null;
        _fresh.Record(step.Op, step.Observed);
        return violation is null ? null : new Problem(ProblemKind.Invariant, Name, violation);
    }
}
