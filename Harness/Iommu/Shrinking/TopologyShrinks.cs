using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>
/// A simpler machine: unused devices and instances removed, device flags cleared one at a time, all devices on one
/// bus, group keys merged, an instance handed to the mock driver (or a vtd or virtio one to smmuv3), instance options and the
/// global default type back to their defaults. A bus_probe of a bus left without devices follows them to their new bus.
/// </summary>
public static class TopologyShrinks
{
    public static IEnumerable<Trace> Simplify(Trace trace)
    {
        var topology = trace.Topology;
        var used = trace.Steps.Select(s => OperationNames.Device(s.Op)).OfType<string>().ToHashSet();
        var unused = topology.Devices.Where(d => !used.Contains(d.Name)).ToArray();
        if (unused.Length > 0)
            yield return With(trace, topology with { Devices = topology.Devices.RemoveRange(unused) });
        var idle = topology.Iommus.Where(i => topology.Devices.All(d => d.Iommu != i.Name)).ToArray();
        if (idle.Length > 0)
            yield return With(trace, topology with { Iommus = topology.Iommus.RemoveRange(idle) });
        for (var i = 0; i < topology.Devices.Length; i++)
            foreach (var simpler in Simpler(topology.Devices[i]))
                yield return With(trace, topology with { Devices = topology.Devices.SetItem(i, simpler) });
        // All devices on one bus, so one bus_probe can stand for their probes (and every bus_probe probes that bus).
        foreach (var bus in topology.Devices.Select(d => d.Bus).Distinct().Order(StringComparer.Ordinal).ToArray())
            if (topology.Devices.Any(d => d.Bus != bus))
                yield return Retargeted(With(trace, topology with
                {
                    Devices = [.. topology.Devices.Select(d => d with { Bus = bus, Untrusted = d.Untrusted && bus == BusNames.Pci })],
                }), bus);
        for (var i = 0; i < topology.Iommus.Length; i++)
            if (topology.Iommus[i].Driver != DriverNames.Mock)
                yield return Retargeted(With(trace, ToMock(topology, topology.Iommus[i])), BusNames.Platform);
        // vtd (PCI only) and virtio handed to smmuv3, which takes devices of both buses with their own domains per instance.
        for (var i = 0; i < topology.Iommus.Length; i++)
            if (topology.Iommus[i].Driver is DriverNames.Vtd or DriverNames.Virtio)
                yield return With(trace, topology with
                {
                    Iommus = topology.Iommus.SetItem(i, topology.Iommus[i] with { Driver = DriverNames.Smmuv3, Options = IommuOptions.None }),
                });
        for (var i = 0; i < topology.Iommus.Length; i++)
            if (topology.Iommus[i].Options != IommuOptions.None)
                yield return With(trace, topology with
                {
                    Iommus = topology.Iommus.SetItem(i, topology.Iommus[i] with { Options = IommuOptions.None }),
                });
        if (trace.Config != SystemConfig.Default)
            yield return trace with { Config = SystemConfig.Default };
    }

    /// <summary>The instance driven by the mock, the simplest driver, with its devices on the mock's bus.</summary>
    private static Topology ToMock(Topology topology, IommuSpec iommu) => topology with
    {
        Iommus = topology.Iommus.Replace(iommu, iommu with { Driver = DriverNames.Mock, Options = IommuOptions.None }),
        Devices = [.. topology.Devices.Select(d => d.Iommu == iommu.Name ? d with { Bus = BusNames.Platform } : d)],
    };

    private static IEnumerable<DeviceSpec> Simpler(DeviceSpec d)
    {
        if (d.Untrusted) yield return d with { Untrusted = false };
        if (d.RequireDirect) yield return d with { RequireDirect = false };
        if (d.NoDirty) yield return d with { NoDirty = false };
        if (d.DefDomainType is not null) yield return d with { DefDomainType = null };
        if (d.MaxPasids != 0) yield return d with { MaxPasids = 0 };
        if (d.MaxPasids > 2) yield return d with { MaxPasids = 2 };
        if (d.MaxPasids > 2048) yield return d with { MaxPasids = 2048 };
        if (d.Group != "g0") yield return d with { Group = "g0" };
    }

    private static Trace With(Trace trace, Topology topology) => trace with { Topology = topology };

    /// <summary>Each <c>bus_probe</c> of a bus no device sits on any more probes <paramref name="bus"/> instead.</summary>
    private static Trace Retargeted(Trace trace, string bus)
    {
        var buses = trace.Topology.Devices.Select(d => d.Bus).ToHashSet(StringComparer.Ordinal);
        if (!trace.Steps.Any(s => s.Op is BusProbe b && !buses.Contains(b.Bus))) return trace;
        return trace.WithSteps(trace.Steps.Select(s => s.Op is BusProbe b && !buses.Contains(b.Bus) ? new TraceStep(new BusProbe(bus)) : s));
    }
}
