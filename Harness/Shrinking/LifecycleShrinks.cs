using IommuConformance.Harness.Traces;

namespace IommuConformance.Harness.Shrinking;

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
