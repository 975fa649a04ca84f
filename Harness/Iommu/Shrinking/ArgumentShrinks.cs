using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>Simpler arguments, one step at a time: the first owner token, no allocation flags.</summary>
public static class ArgumentShrinks
{
    public static IEnumerable<Trace> Simplify(Trace trace)
    {
        for (var i = 0; i < trace.Steps.Length; i++)
        {
            var simpler = Simpler(trace.Steps[i].Op);
            if (simpler is not null)
                yield return trace with { Steps = trace.Steps.SetItem(i, trace.Steps[i] with { Op = simpler }) };
        }
    }

    private static Operation? Simpler(Operation op) => op switch
    {
        ClaimDmaOwner { Owner: not null and not "o1" } o => o with { Owner = "o1" },
        ClaimGroupDmaOwner { Owner: not null and not "o1" } o => o with { Owner = "o1" },
        DomainAllocPaging { Flags: not null } o => o with { Flags = null },
        _ => null,
    };
}
