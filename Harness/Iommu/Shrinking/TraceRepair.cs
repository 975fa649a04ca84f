using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>
/// Keeps a shrink candidate a valid trace: drops steps that name a device the topology no longer has, or a
/// handle that no earlier step binds (its allocation was deleted).
/// </summary>
public static class TraceRepair
{
    public static Trace Repair(Trace trace)
    {
        var devices = trace.Topology.Devices.Select(d => d.Name).ToHashSet();
        var bound = new HashSet<string>();
        var kept = new List<TraceStep>(trace.Steps.Length);
        foreach (var step in trace.Steps)
        {
            var dev = OperationNames.Device(step.Op);
            var used = OperationNames.HandleUsed(step.Op);
            if ((dev is not null && !devices.Contains(dev)) || (used is not null && !bound.Contains(used)))
                continue;
            if (OperationNames.HandleBound(step.Op) is { } name)
                bound.Add(name);
            kept.Add(step);
        }
        return kept.Count == trace.Steps.Length ? trace : trace.WithSteps(kept);
    }
}
