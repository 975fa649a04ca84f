using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>Deletes an object with everything that touches it: a domain handle, or a device of the machine.</summary>
public static class LifecycleShrinks
{
    public static IEnumerable<Trace> DeleteHandles(Trace trace)
    {
        var handles = trace.Steps.Select(s => OperationNames.HandleBound(s.Op)).OfType<string>().Distinct();
        foreach (var handle in handles)
            yield return trace.WithSteps(trace.Steps.Where(s =>
                OperationNames.HandleBound(s.Op) != handle && OperationNames.HandleUsed(s.Op) != handle));
    }

    /// <summary>
    /// One device stands in for another of the same instance: every step naming the second names the first, and
    /// the second leaves the machine. Undoes a failure that needed two names only because the generator drew two.
    /// </summary>
    public static IEnumerable<Trace> MergeDevices(Trace trace)
    {
        var devices = trace.Topology.Devices;
        foreach (var keep in devices)
            foreach (var drop in devices.Where(d => d != keep && d.Iommu == keep.Iommu))
                yield return trace with
                {
                    Topology = trace.Topology with { Devices = devices.Remove(drop) },
                    Steps = [.. trace.Steps.Select(s => s with
                    {
                        Op = OperationNames.Rename(s.Op, n => n == drop.Name ? keep.Name : n, h => h),
                    })],
                };
    }

    public static IEnumerable<Trace> DeleteDevices(Trace trace)
    {
        foreach (var device in trace.Topology.Devices)
            yield return trace with
            {
                Topology = trace.Topology with { Devices = trace.Topology.Devices.Remove(device) },
                Steps = [.. trace.Steps.Where(s => OperationNames.Device(s.Op) != device.Name)],
            };
    }
}
