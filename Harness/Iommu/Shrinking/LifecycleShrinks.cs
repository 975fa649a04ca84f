using IommuConformance.Contract;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>
/// Deletes a device of the machine with everything that names it, or lets one device stand in for another. (A
/// handle's lifecycle is deleted by the generic <see cref="Core.Shrinking.HandleShrinks"/>.)
/// </summary>
public static class LifecycleShrinks
{
    /// <summary>
    /// One device stands in for another of the same instance: every step naming the second names the first, and
    /// the second leaves the machine. Undoes a failure that needed two names only because the generator drew two.
    /// </summary>
    public static IEnumerable<Trace> MergeDevices(Trace trace)
    {
        var devices = trace.Topology.Devices;
        string? Driver(DeviceSpec d) => d.Iommu is { } i ? trace.Topology.FindIommu(i)?.Driver : null;
        // Devices behind one instance first, then behind another instance of the same driver.
        foreach (var keep in devices)
            foreach (var drop in devices.Where(d => d != keep && d.Iommu == keep.Iommu)
                         .Concat(devices.Where(d => d != keep && d.Iommu != keep.Iommu && Driver(d) is { } x && x == Driver(keep))))
                yield return trace with
                {
                    Topology = trace.Topology with { Devices = devices.Remove(drop) },
                    Steps = [.. trace.Steps.Select(s => s with
                    {
                        Op = OperationNames.RenameDevices(s.Op, n => n == drop.Name ? keep.Name : n),
                    })],
                };
    }

    /// <summary>
    /// For each bus: the hot-plug probes of its devices replaced by one boot-time <c>bus_probe</c> where the first of
    /// them stood (several steps become one; kept only if the trace still fails the same way).
    /// </summary>
    public static IEnumerable<Trace> ProbesToBusProbe(Trace trace)
    {
        var busOf = trace.Topology.Devices.ToDictionary(d => d.Name, d => d.Bus);
        foreach (var bus in trace.Topology.Devices.Select(d => d.Bus).Distinct())
        {
            var probes = trace.Steps.Count(s => s.Op is Probe p && busOf.GetValueOrDefault(p.Dev) == bus);
            if (probes < 2) continue;
            var first = true;
            var steps = new List<TraceStep>(trace.Steps.Length);
            foreach (var step in trace.Steps)
            {
                if (step.Op is Probe p && busOf.GetValueOrDefault(p.Dev) == bus)
                {
                    if (first) steps.Add(new TraceStep(new BusProbe(bus)));
                    first = false;
                    continue;
                }
                steps.Add(step);
            }
            yield return trace.WithSteps(steps);
        }
    }

    /// <summary>
    /// A boot-time <c>bus_probe</c> replaced by the hot-plug probe of one device of its bus (no shorter, but it probes
    /// less: the other devices stay unprobed, and steps that only undid their probe can go next). The reverse of
    /// <see cref="ProbesToBusProbe"/>, which needs two probes, so the two never undo each other.
    /// </summary>
    public static IEnumerable<Trace> BusProbeToProbe(Trace trace)
    {
        for (var i = 0; i < trace.Steps.Length; i++)
            if (trace.Steps[i].Op is BusProbe b)
                foreach (var dev in trace.Topology.Devices.Where(d => d.Bus == b.Bus && d.Iommu is not null))
                    yield return trace.WithSteps(trace.Steps.SetItem(i, new TraceStep(new Probe(dev.Name))));
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
