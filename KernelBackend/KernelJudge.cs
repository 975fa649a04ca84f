using IommuConformance.Contract;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Execution;

namespace IommuConformance.KernelBackend;

/// <summary>
/// The model as the judge of the kernel, with the one reading the kernel cannot give: VT-d's second stage raises the
/// same fault for an IOVA it does not map and for a mapped page without the right the access needs (fault reason 5,
/// "PTE Write access is not set", for a write; 6 for a read), so the kernel's DMA fault (<see cref="VtdFault"/>) is
/// admitted exactly where the model answers EIO with <c>translation</c> or <c>permission</c>, and judged as that
/// answer (the model's state moves on with it). Every other answer is the model's own judgement, unchanged.
/// </summary>
public sealed class KernelJudge(ModelJudge model) : IJudge
{
    /// <summary>The kernel's answer for a DMA that raised a DMAR fault: not a reason of the contract, so nothing else admits it.</summary>
    public static readonly string VtdFault = DmaValues.Fault("vtd_pte_access");

    public Judgement Judge(Operation op, Outcome observed)
    {
        if (op is DeviceDma && observed.Errno == Errno.EIO && observed.Value == VtdFault && observed.Warnings.IsEmpty)
        {
            var expected = model.State.Step(op).Outcome;
            if (expected.Errno == Errno.EIO && expected.Warnings.IsEmpty
                && (expected.Value == DmaValues.Fault(DmaFaults.Translation) || expected.Value == DmaValues.Fault(DmaFaults.Permission)))
                return model.Judge(op, expected);
        }
        return model.Judge(op, observed);
    }
}
