using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Benchmarks;

/// <summary>
/// Hand-built traces for the device-count benchmarks: one smmuv3 instance ("smmu0"), N platform devices
/// dev0..dev(N-1) each in its own group, and a fixed deterministic sequence of 60 operations: 6 rounds of the
/// same 10 operations, round r on device dev(r mod N) with the domain handle d(r+1). With N = 1 every round is on
/// dev0, so rounds 2..6 re-probe an already probed device (a cheap refused step); with N >= 6 each round probes a
/// fresh device. The rest of the topology (N - 6 devices) stays unprobed, but every check that walks the topology
/// (snapshot, invariants, observations of every device) pays for it.
/// </summary>
public static class DeviceTraces
{
    public const int Rounds = 6;
    public const int StepsPerRound = 10;
    public const int Steps = Rounds * StepsPerRound; // 60

    public static Topology Topology(int devices) => new(
        [new IommuSpec("smmu0", DriverNames.Smmuv3, IommuOptions.None)],
        [.. Enumerable.Range(0, devices).Select(i => new DeviceSpec($"dev{i}", BusNames.Platform, "smmu0", $"g{i}"))]);

    public static ImmutableArray<Operation> Operations(int devices)
    {
        var ops = ImmutableArray.CreateBuilder<Operation>(Steps);
        for (var r = 0; r < Rounds; r++)
        {
            var dev = $"dev{r % devices}";
            var dom = $"d{r + 1}";
            ops.Add(new Probe(dev));
            ops.Add(new DomainAllocPaging(dev, dom));
            ops.Add(new AttachGroup(dom, dev));
            ops.Add(new GetDomain(dev));
            ops.Add(new DetachGroup(dom, dev));
            ops.Add(new DomainFree(dom));
            ops.Add(new DriverBind(dev));
            ops.Add(new DriverUnbind(dev));
            ops.Add(new ClaimGroupDmaOwner(dev, "vfio"));
            ops.Add(new ReleaseGroupDmaOwner(dev));
        }
        return ops.MoveToImmutable();
    }

    public static Trace Trace(int devices) =>
        new($"{devices} devices", [], SystemConfig.Default, Topology(devices),
            [.. Operations(devices).Select(op => new TraceStep(op))]);
}
