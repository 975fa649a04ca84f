using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Generation;

/// <summary>
/// What rules see and act through while a case is generated: the random source, the step budget, and
/// <see cref="Emit"/>, which appends one step and answers the reference model's outcome for it.
/// </summary>
public interface IGenerationContext
{
    /// <summary>The one random source of the case being generated.</summary>
    Prng Random { get; }

    /// <summary>Names bound by the steps emitted so far, and fresh ones.</summary>
    NameBook Names { get; }

    /// <summary>The steps emitted so far.</summary>
    int Count { get; }

    /// <summary>Steps that may still be emitted.</summary>
    int Remaining { get; }

    /// <summary>
    /// Appends <paramref name="op"/> as the next step and steps the reference state with it; the model's outcome,
    /// or null when the budget is spent (nothing is appended then).
    /// </summary>
    Outcome? Emit(Operation op);

    /// <summary>What the reference would answer to <paramref name="op"/> now, without emitting it (a pure look-ahead).</summary>
    Outcome Peek(Operation op);

    /// <summary>
    /// Whether this case has already met this outcome: for an outcome with warnings, whether some step (of any
    /// operation) raised its last warning; otherwise whether a step of this operation answered this errno.
    /// </summary>
    bool HasSeen(Operation op, Outcome outcome);
}

/// <summary>
/// One case being generated against a reference state: the state after every emitted step, the step list, the
/// names bound so far (<see cref="NameBook"/>), and a budget. The binding says how a state takes a step
/// (<see cref="Apply"/>) and may watch every step (<see cref="OnStep"/>, e.g. to refresh cached queries). Steps
/// are appended to one growing list: generating n steps costs O(n), never a copy of the prefix per step.
/// </summary>
/// <typeparam name="TState">The reference state; a state that did not change is the same instance (failed steps).</typeparam>
public abstract class GenerationSession<TState> : IGenerationContext where TState : class
{
    private readonly List<TraceStep> _steps;
    private readonly List<Outcome>? _outcomes;

    protected GenerationSession(TState initial, Prng random, int budget, NameBook names, bool recordOutcomes = false)
    {
        State = initial;
        Random = random;
        Budget = Math.Max(0, budget);
        Names = names;
        _steps = new List<TraceStep>(Budget);
        _outcomes = recordOutcomes ? new List<Outcome>(Budget) : null;
    }

    /// <summary>The reference state after the last emitted step.</summary>
    public TState State { get; private set; }

    public Prng Random { get; }

    /// <summary>The most steps this case may have.</summary>
    public int Budget { get; }

    /// <summary>Names bound by the emitted steps' binders, and fresh ones.</summary>
    public NameBook Names { get; }

    public int Count => _steps.Count;

    public int Remaining => Budget - _steps.Count;

    /// <summary>Bumped whenever a step changed the state: cached views of the state compare it to know they are stale.</summary>
    public int Version { get; private set; }

    /// <summary>The model's outcome of the last emitted step, or null before the first.</summary>
    public Outcome? Last { get; private set; }

    private readonly HashSet<(string Op, Errno Errno, string? Warning)> _seen = [];

    public Outcome Peek(Operation op) => Apply(State, op).Outcome;

    public bool HasSeen(Operation op, Outcome outcome) => _seen.Contains(SeenKey(op, outcome));

    private static (string, Errno, string?) SeenKey(Operation op, Outcome outcome) =>
        outcome.Warnings.IsEmpty ? (op.Name, outcome.Errno, null) : ("", Errno.OK, outcome.Warnings[^1]);

    /// <summary>
    /// The state each emitted step was applied to, with what it answered and led to (index = step), so a checker that
    /// replays the trace on the same model may reuse a step it would take again.
    /// </summary>
    public IReadOnlyList<(TState Before, Outcome Outcome, TState Next)> Trail => _trail;

    private readonly List<(TState Before, Outcome Outcome, TState Next)> _trail = [];

    public Outcome? Emit(Operation op)
    {
        if (Remaining <= 0) return null;
        var (outcome, next) = Apply(State, op);
        _trail.Add((State, outcome, next));
        _seen.Add(SeenKey(op, outcome));
        var changed = !ReferenceEquals(next, State);
        State = next;
        if (changed) Version++;
        _steps.Add(new TraceStep(op));
        _outcomes?.Add(outcome);
        Names.Record(op);
        Last = outcome;
        OnStep(op, outcome, changed);
        return outcome;
    }

    /// <summary>The steps emitted, in order.</summary>
    public ImmutableArray<TraceStep> Steps() => [.. _steps];

    /// <summary>The model's outcome of every emitted step, when the session records them (else empty).</summary>
    public IReadOnlyList<Outcome> Outcomes => _outcomes ?? (IReadOnlyList<Outcome>)[];

    /// <summary>One step of the reference: the outcome and the next state (the same instance when nothing changed).</summary>
    protected abstract (Outcome Outcome, TState Next) Apply(TState state, Operation op);

    /// <summary>Called after every emitted step.</summary>
    protected virtual void OnStep(Operation op, Outcome outcome, bool changed) { }
}
