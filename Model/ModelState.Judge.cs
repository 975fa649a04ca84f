using IommuConformance.Contract;
using IommuConformance.Model.State;

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
    /// <remarks>
    /// <paramref name="known"/>, when given, is <c>Step(op)</c> of this very state, taken earlier (the generator steps the
    /// model to choose each operation): a step is a pure function of the state and the operation, so it is not taken again.
    /// </remarks>
    public ModelJudgement Judge(Operation op, Outcome observed, ModelStep? known = null)
    {
        if (HasUndecidedDomain)
            foreach (var domain in domains.Values)
                if (!domain.Alternatives.IsDefaultOrEmpty) return JudgeAlternatives(domain, op, observed);
        if (JudgeDma(op, observed, known) is { } dmaJudgement) return dmaJudgement;
        var step = known ?? Step(op);
        if (op is DeviceDma dma && ReachesFreedDomain(dma))
            return new(IsDmaAnswer(observed), step.Outcome, step.Next);
        return new(step.Outcome.Equals(observed), step.Outcome, step.Next);
    }

    /// <summary>
    /// A domain whose mappings the model could not tell (<see cref="UserDomain.Alternatives"/>): the outcome is judged
    /// against each candidate, and the candidates that allow it are kept (Porcupine's set of states, on one domain's
    /// mappings). One left, or all agreeing on the next state: that state. An outcome none allows is refused with the
    /// first candidate's expectation. A step that changed no candidate leaves this very state.
    /// </summary>
    private ModelJudgement JudgeAlternatives(UserDomain domain, Operation op, Outcome observed)
    {
        ModelJudgement? first = null;
        var allowed = new List<(ModelState Candidate, ModelJudgement Judgement)>();
        foreach (var mappings in domain.Alternatives)
        {
            var candidate = With(domains: domains.SetItem(domain.Handle, domain with { Mappings = mappings, Alternatives = [] }));
            var judgement = candidate.Judge(op, observed);
            first ??= judgement;
            if (judgement.Allowed) allowed.Add((candidate, judgement));
        }
        if (allowed.Count == 0) return first!.Value with { Allowed = false };
        var expected = allowed[0].Judgement.Expected;
        if (allowed.Count == domain.Alternatives.Length && allowed.All(a => ReferenceEquals(a.Judgement.Next, a.Candidate)))
            return new(true, expected, this);
        var next = allowed[0].Judgement.Next;
        if (allowed.All(a => a.Judgement.Next.Equals(next))) return new(true, expected, next);
        // The candidates still differ, in that domain only: keep those left.
        if (next.domains.GetValueOrDefault(domain.Handle) is not { } after) return new(true, expected, next);
        var left = new List<DomainMappings>();
        foreach (var (_, judgement) in allowed)
        {
            if (judgement.Next.domains.GetValueOrDefault(domain.Handle) is not { } d
                || !judgement.Next.With(domains: judgement.Next.domains.SetItem(domain.Handle, after)).Equals(next))
                return new(true, expected, next);
            // a candidate's step may itself leave candidates (a second failed map): they all stay
            foreach (var m in d.Alternatives.IsDefaultOrEmpty ? [d.Mappings] : d.Alternatives)
                if (!left.Contains(m)) left.Add(m);
        }
        return new(true, expected, next.WithAlternatives(after, left));
    }

    /// <summary>A well-formed DMA (size, no wrap, no PASID) by a device whose hardware is on a freed domain.</summary>
    private bool ReachesFreedDomain(DeviceDma op) =>
        op.Size != 0 && op.Iova + (op.Size - 1) >= op.Iova && op.Pasid is null && DmaUndefined(op.Dev);

    /// <summary>
    /// Any answer of the DMA test device (OK with a <c>phys</c>, or EIO with a fault of the vocabulary; no warnings): what
    /// the contract admits for a DMA through a domain freed under the hardware (<see cref="DmaUndefined"/>), where the
    /// kernel reads freed page tables.
    /// </summary>
    private static bool IsDmaAnswer(Outcome observed) =>
        observed.Warnings.IsEmpty && OutcomeValues.TryField(observed.Value, out var field, out var value) && observed.Errno switch
        {
            Errno.OK => field == DmaValues.PhysField && OutcomeValues.TryNumber(value, out _),
            Errno.EIO => field == DmaValues.FaultField && DmaFaults.All.Contains(value),
            _ => false,
        };
}
