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
        if (JudgeDma(op, observed) is { } dmaJudgement) return dmaJudgement;
        var step = Step(op);
        if (op is DeviceDma dma && ReachesFreedDomain(dma))
            return new(IsDmaAnswer(observed), step.Outcome, step.Next);
        return new(step.Outcome.Equals(observed), step.Outcome, step.Next);
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
