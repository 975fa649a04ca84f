using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using IommuConformance.Properties.Support;
using Xunit;

namespace IommuConformance.Properties.Conformance;

/// <summary>
/// Conformance on virtio-iommu machines with the memory operations on (map, unmap, iova_to_phys, device_dma),
/// whatever the default run's settings: the generator's memory run with every instance's driver made virtio, run on
/// the model and the implementation with every check. Devices lose requireDirect: a refused MUST_SUCCEED switch
/// leaves lagging devices whose DMA the model cannot answer yet on any driver (docs/operations.md, "Open").
/// </summary>
public sealed class VirtioConformanceProperties
{
    /// <summary>The memory run's settings (the default run's may change; these are this property's).</summary>
    public static readonly TraceGenSettings Settings = TraceGenSettings.Default with { MemoryOps = true };

    /// <summary>The trace on the same machine with every instance virtio and no requireDirect device.</summary>
    public static Trace OnVirtio(Trace trace) => trace with
    {
        Topology = new Topology(
            [.. trace.Topology.Iommus.Select(i => i with { Driver = DriverNames.Virtio })],
            [.. trace.Topology.Devices.Select(d => d with { RequireDirect = false })]),
    };

    public static bool IsVirtioOnly(Trace trace) =>
        trace.Topology.Iommus.All(i => i.Driver == DriverNames.Virtio) && trace.Topology.Devices.All(d => !d.RequireDirect);

    /// <summary>The trace with no requireDirect device, its machine otherwise as generated.</summary>
    public static Trace WithoutRequireDirect(Trace trace) => trace with
    {
        Topology = trace.Topology with { Devices = [.. trace.Topology.Devices.Select(d => d with { RequireDirect = false })] },
    };

    public static bool HasVirtio(Trace trace) =>
        trace.Topology.Iommus.Any(i => i.Driver == DriverNames.Virtio) && trace.Topology.Devices.All(d => !d.RequireDirect);

    /// <summary>Generated machines that have a virtio instance next to the other drivers (domains of one instance tried on another).</summary>
    public static Arbitrary<Trace> MixedTraces() =>
        Arb.From(TraceGen.Trace(Settings).Select(WithoutRequireDirect).Where(HasVirtio), t => TraceShrinker.Shrink(t).Where(HasVirtio));

    [ConformanceProperty]
    public Property Mixed_machines_with_a_virtio_instance_conform() =>
        Prop.ForAll(MixedTraces(), (Trace trace) => ConformanceFailure.ThrowIfFailed(Executor.Run(trace)));

    public static Arbitrary<Trace> Traces() =>
        Arb.From(TraceGen.Trace(Settings).Select(OnVirtio), t => TraceShrinker.Shrink(t).Where(IsVirtioOnly));

    [ConformanceProperty]
    public Property Virtio_machines_conform_with_memory_operations() =>
        Prop.ForAll(Traces(), (Trace trace) => ConformanceFailure.ThrowIfFailed(Executor.Run(trace)));

    /// <summary>
    /// The property can fail: with every map on the implementation's side shifted one page in physical memory (a driver
    /// that sends the device a wrong phys_start), the same traces diverge: iova_to_phys or the device's DMA.
    /// </summary>
    [Fact]
    public void A_device_mapping_to_the_wrong_address_is_caught()
    {
        var failed = 0;
        for (ulong seed = 0; seed < 60; seed++)
        {
            var trace = OnVirtio(TraceGen.Build(Settings, seed, 100));
            var report = Executor.Run(trace, t =>
            {
                var (model, implementation) = IommuBinding.ProjectSides(t);
                return (model, new ShiftedMaps(implementation));
            });
            if (!report.Conformant)
            {
                failed++;
                Assert.Contains("differs", report.Problem!.Message);
            }
        }
        Assert.True(failed >= 3, $"only {failed} of 60 traces caught the shifted maps");
    }

    private sealed class ShiftedMaps(IIommuSystem inner) : IIommuSystem
    {
        public Contract.Outcome Execute(Operation op) => inner.Execute(op is Map m ? m with { Paddr = m.Paddr + 0x1000 } : op);
        public TouchedSet Touched => inner.Touched;
        public bool ReadsFollowSnapshots => inner.ReadsFollowSnapshots;
        public IReadOnlyList<string> HardwareErrors => inner.HardwareErrors;
        public SystemSnapshot Snapshot() => inner.Snapshot();
        public DeviceSnapshot SnapshotDevice(string name) => inner.SnapshotDevice(name);
        public GroupSnapshot? SnapshotGroup(int id) => inner.SnapshotGroup(id);
        public DomainSnapshot? SnapshotDomain(int id) => inner.SnapshotDomain(id);
    }
}
