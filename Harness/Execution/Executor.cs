using IommuConformance.Harness.Traces;

namespace IommuConformance.Harness.Execution;

/// <summary>
/// Runs a trace on the model and the implementation side by side, compares every outcome, checks the
/// structural invariants after every step, and stops at the first failure.
/// STUB — owned by the executor author.
/// </summary>
public static class Executor
{
    public static RunReport Run(Trace trace) => throw new NotImplementedException();
}
