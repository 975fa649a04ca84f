using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Invariants;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// What the checks of one run share: both sides, the harness's view of the implementation, the scope the last step
/// could have changed, and the waivers earned so far. Built by <see cref="IommuBinding"/>.
/// </summary>
public sealed class IommuRun
{
    public IommuRun(Trace trace, IIommuJudge model, IIommuSystem implementation, CheckMode mode)
    {
        Trace = trace;
        Model = model;
        Implementation = implementation;
        Mode = mode;
        Context = new InvariantContext(trace.Topology);
        View.Load(implementation.Snapshot());
    }

    public Trace Trace { get; }
    public IIommuJudge Model { get; }
    public IIommuSystem Implementation { get; }
    public CheckMode Mode { get; }
    public InvariantContext Context { get; }
    public StateView View { get; } = new();

    /// <summary>What the last step could have changed, widened; filled by the state check.</summary>
    public Scope Scope { get; } = new();

    /// <summary>Rebuilds the view from a full snapshot (after an unchecked prefix).</summary>
    public void Resync() => View.Load(Implementation.Snapshot());
}
