using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>
/// Canonical names for a shrunk trace: devices dev0, dev1, ... in topology order and handles d1, d2, ... in
/// order of binding, so that two failures of one bug print alike.
/// </summary>
public static class NameNormalizer
{
    public static Trace Normalize(Trace trace)
    {
        var devices = trace.Topology.Devices.Select((d, i) => (d.Name, New: $"dev{i}"))
            .ToDictionary(p => p.Name, p => p.New);
        var handles = new Dictionary<string, string>();
        foreach (var name in trace.Steps.Select(s => OperationNames.HandleBound(s.Op)).OfType<string>())
            handles.TryAdd(name, $"d{handles.Count + 1}");
        if (devices.All(p => p.Key == p.Value) && handles.All(p => p.Key == p.Value))
            return trace;
        // Each name is mapped from its old spelling alone, so a swap (dev1 <-> dev0) needs no temporary name.
        string Dev(string n) => devices.GetValueOrDefault(n, n);
        string Handle(string n) => handles.GetValueOrDefault(n, n);
        return trace with
        {
            Topology = trace.Topology with
            {
                Devices = [.. trace.Topology.Devices.Select(d => d with { Name = Dev(d.Name) })],
            },
            Steps = [.. trace.Steps.Select(s => s with { Op = OperationNames.Rename(s.Op, Dev, Handle) })],
        };
    }
}
