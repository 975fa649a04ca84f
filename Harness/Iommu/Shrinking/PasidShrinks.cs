using IommuConformance.Contract;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>Shrinks of the PASID operations that deleting steps cannot reach.</summary>
public static class PasidShrinks
{
    /// <summary>
    /// A <c>replace_device_pasid</c> becomes a <c>detach_device_pasid</c> of the domain it replaced (the latest attach or
    /// replace of that device and PASID before it): a failure that needed the PASID's old entry to go, not a new one to
    /// come, then no longer needs the new domain (its lifecycle is deleted by a later pass).
    /// </summary>
    public static IEnumerable<Trace> ReplaceToDetach(Trace trace)
    {
        for (var i = 0; i < trace.Steps.Length; i++)
        {
            if (trace.Steps[i].Op is not ReplaceDevicePasid r) continue;
            string? old = null;
            for (var j = i - 1; j >= 0 && old is null; j--)
                old = trace.Steps[j].Op switch
                {
                    AttachDevicePasid a when a.Dev == r.Dev && a.Pasid == r.Pasid => a.Domain,
                    ReplaceDevicePasid p when p.Dev == r.Dev && p.Pasid == r.Pasid => p.Domain,
                    _ => null,
                };
            if (old is null || old == r.Domain) continue;
            var steps = trace.Steps.ToList();
            steps[i] = new TraceStep(new DetachDevicePasid(old, r.Dev, r.Pasid));
            yield return trace.WithSteps(steps);
        }
    }
}
