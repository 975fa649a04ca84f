using IommuConformance.Contract;

namespace IommuConformance.Model;

/// <summary>
/// The model's verdict on one observed outcome: whether the contract allows it, the outcome the model expected
/// (what a report prints), and the state the model adopts next.
/// </summary>
public readonly record struct ModelJudgement(bool Allowed, Outcome Expected, ModelState Next);

public sealed partial class ModelState
{
    /// <summary>
    /// Judges an implementation's <paramref name="observed"/> outcome of <paramref name="op"/>. Every operation of
    /// this slice leaves the contract no choice, so the allowed set is the one outcome <see cref="Step"/> computes:
    /// <c>Allowed</c> is equality with it, and <c>Next</c> is its next state whatever was observed (the harness stops
    /// at a disallowed outcome anyway). Operations whose answer the contract leaves open (an allocated IOVA, spec §3)
    /// will override this per operation: admit any outcome of the allowed set and adopt the implementation's choice
    /// in <c>Next</c>.
    /// </summary>
    public ModelJudgement Judge(Operation op, Outcome observed)
    {
        var step = Step(op);
        return new(step.Outcome.Equals(observed), step.Outcome, step.Next);
    }
}
