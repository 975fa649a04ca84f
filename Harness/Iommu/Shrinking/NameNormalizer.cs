using IommuConformance.Harness.Core.Shrinking;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>
/// Canonical names for a shrunk trace: devices dev0, dev1, ... in topology order, and handles d1, d2, ... in order
/// of binding (the generic <see cref="HandleShrinks"/>), so that two failures of one bug print alike.
/// </summary>
public static class NameNormalizer
{
    public static Trace Normalize(Trace trace)
    {
        var devices = trace.Topology.Devices.Select((d, i) => (d.Name, New: $"dev{i}"))
            .ToDictionary(p => p.Name, p => p.New);
        var handles = HandleShrinks.CanonicalMap(trace.Steps);
        if (devices.All(p => p.Key == p.Value) && handles is null)
            return trace;
        // Each name is mapped from its old spelling alone, so a swap (dev1 <-> dev0) needs no temporary name.
        string Dev(string n) => devices.GetValueOrDefault(n, n);
        return trace with
        {
            Topology = trace.Topology with
            {
                Devices = [.. trace.Topology.Devices.Select(d => d with { Name = Dev(d.Name) })],
            },
            Steps = [.. trace.Steps.Select(s => s with
            {
                Op = OperationNames.RenameDevices(handles is null ? s.Op : StepNames.RenameHandles(s.Op, handles), Dev),
            })],
        };
    }

    /// <summary>The normalised trace as a shrink candidate, when it differs.</summary>
    public static IEnumerable<Trace> Candidates(Trace trace)
    {
        var normal = Normalize(trace);
        if (!ReferenceEquals(normal, trace)) yield return normal;
    }
}
