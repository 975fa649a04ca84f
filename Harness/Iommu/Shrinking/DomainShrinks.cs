using IommuConformance.Contract;
using IommuConformance.Harness.Core.Shrinking;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>Shrinks of the domain operations that deleting steps cannot reach.</summary>
public static class DomainShrinks
{
    /// <summary>
    /// A user domain's round trip on a device (allocated, attached, detached back to the default domain, perhaps freed)
    /// becomes a sysfs default-domain change (<c>group_type_write</c> of <c>auto</c>, or of <c>DMA</c>, which is a new
    /// domain also where <c>auto</c> is the DMA-FQ domain the group has) where the domain's last step stood,
    /// and every other step naming the domain goes. A failure that needed the device's domain to change under something
    /// cached, and the old domain to go, then needs one step instead of the four of the round trip: the default domain
    /// is replaced and freed by the type change. (Kept, like every candidate, only if the trace still fails.)
    /// </summary>
    public static IEnumerable<Trace> RoundTripToTypeChange(Trace trace)
    {
        foreach (var (space, name) in StepNames.BindingOrder(trace.Steps))
        {
            if (space != Spaces.Domain) continue;
            string? dev = null;
            var last = -1;
            for (var i = 0; i < trace.Steps.Length; i++)
            {
                if (!StepNames.Mentions(trace.Steps[i].Op, space, name)) continue;
                last = i;
                dev ??= trace.Steps[i].Op switch
                {
                    AttachDevice a => a.Dev,
                    AttachGroup g => g.Dev,
                    _ => null,
                };
            }
            if (dev is null) continue;
            foreach (var type in (string[])["auto", "DMA"])
            {
                var steps = new List<TraceStep>(trace.Steps.Length);
                for (var i = 0; i < trace.Steps.Length; i++)
                {
                    if (i == last) steps.Add(new TraceStep(new GroupTypeWrite(dev, type)));
                    else if (!StepNames.Mentions(trace.Steps[i].Op, space, name)) steps.Add(trace.Steps[i]);
                }
                yield return trace.WithSteps(steps);
            }
        }
    }
}
