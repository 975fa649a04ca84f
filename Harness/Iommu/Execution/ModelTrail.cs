using System.Runtime.CompilerServices;
using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Model;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// The model's own steps of a generated trace: the generator stepped the model to choose every operation, and the
/// executor's judge steps it again on the same operations. A step is a pure function of the (immutable) state and the
/// operation, so the judge reuses the generator's step wherever it stands on the very state instance the generator
/// stepped and judges the very operation instance (<see cref="ModelState.Judge"/>'s <c>known</c>); from the first step
/// where the implementation's answer made the model adopt another state, it steps the model itself. Kept beside the
/// trace object, not in it: a trace that is changed (shrunk, renamed, reloaded) is a new object and has no trail.
/// </summary>
public sealed class ModelTrail
{
    private static readonly ConditionalWeakTable<Trace, ModelTrail> Trails = new();

    private readonly (ModelState Before, Outcome Outcome, ModelState Next)[] _steps;
    private readonly Operation[] _ops;

    private ModelTrail(ModelState initial, IReadOnlyList<(ModelState Before, Outcome Outcome, ModelState Next)> steps, Trace trace)
    {
        Initial = initial;
        _steps = [.. steps];
        _ops = [.. trace.Steps.Select(s => s.Op)];
    }

    /// <summary>The state the generator started from (<c>ModelState.Initial</c> of the trace's machine).</summary>
    public ModelState Initial { get; }

    /// <summary>Records the generator's steps of <paramref name="trace"/>, which must be the trace it emitted them for.</summary>
    public static void Attach(Trace trace, ModelState initial, IReadOnlyList<(ModelState Before, Outcome Outcome, ModelState Next)> steps)
    {
        if (steps.Count != trace.Steps.Length) throw new ArgumentException($"{steps.Count} model steps for a trace of {trace.Steps.Length}");
        Trails.AddOrUpdate(trace, new ModelTrail(initial, steps, trace));
    }

    public static ModelTrail? Of(Trace trace) => Trails.TryGetValue(trace, out var trail) ? trail : null;

    /// <summary>The generator's step <paramref name="index"/> if it was taken on <paramref name="state"/> with <paramref name="op"/>.</summary>
    public ModelStep? Known(int index, ModelState state, Operation op) =>
        index < _steps.Length && ReferenceEquals(_steps[index].Before, state) && ReferenceEquals(_ops[index], op)
            ? new ModelStep(_steps[index].Outcome, _steps[index].Next)
            : null;
}
