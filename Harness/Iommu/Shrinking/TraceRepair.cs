using IommuConformance.Contract;
using IommuConformance.Harness.Core.Shrinking;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>
/// Keeps a shrink candidate a valid trace (the generic <see cref="StepRepair"/> over this machine): drops steps that
/// name a device the topology no longer has, or a handle that no earlier step binds (its allocation was deleted).
/// </summary>
public static class TraceRepair
{
    public static Trace Repair(Trace trace)
    {
        var devices = trace.Topology.Devices.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        return StepRepair.Repair(trace, (space, name) => space switch
        {
            Spaces.Device => devices.Contains(name),
            Spaces.Bus => BusNames.All.Contains(name),
            _ => true,
        });
    }
}
