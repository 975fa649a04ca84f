using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
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

    /// <summary>What c.17 remembers of the IOVA domains' flush queues (the state check keeps it).</summary>
    public IovaHistory IovaHistory { get; } = new();

    /// <summary>What the last step could have changed, widened; filled by the state check.</summary>
    public Scope Scope { get; } = new();

    /// <summary>
    /// The view's <see cref="StateView.Version"/> after the last checked step whose observations agreed (-1: none yet).
    /// A step that moves neither the view nor the model cannot change an answer, so the observations skip it; sweeps
    /// never skip.
    /// </summary>
    internal long ObservationsAgreedAt { get; set; } = -1;

    /// <summary>
    /// The view's version and the waivers' sizes after the last checked step whose invariants held. A step that changes
    /// nothing in the view, judges no new hardware error and withdraws no waiver cannot break an invariant, so the state
    /// check skips the invariants for it; sweeps never skip.
    /// </summary>
    internal (long Version, int Lagging, int Unbalanced) InvariantsHeldAt { get; set; } = (-1, 0, 0);

    /// <summary>The key <see cref="InvariantsHeldAt"/> is compared with.</summary>
    internal (long, int, int) InvariantKey => (View.Version, Context.LaggingDevices.Count, Context.UnbalancedGroups.Count);

    private int _lastSweep = -1;
    private Operation? _valuesOf;
    private ImmutableArray<ArgValue> _values;

    /// <summary>The step's argument values, computed once per operation for the checks that read them.</summary>
    public ImmutableArray<ArgValue> Values(Operation op)
    {
        if (!ReferenceEquals(op, _valuesOf)) (_valuesOf, _values) = (op, op.Values);
        return _values;
    }

    /// <summary>
    /// Sweeps are due every <see cref="IommuBinding.SweepEvery"/> steps, or, once the state is large, after as many steps
    /// as it has objects: a sweep reads everything, so spacing them by state size keeps its cost per step flat. The
    /// last step always sweeps, so what a sweep can find is found in every trace.
    /// </summary>
    public bool SweepDue(int step)
    {
        var objects = View.DeviceCount + View.GroupCount + View.DomainCount;
        if (step - _lastSweep < Math.Max(IommuBinding.SweepEvery, objects)) return false;
        _lastSweep = step;
        return true;
    }
}
