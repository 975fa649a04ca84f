using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Properties.Support;
using Xunit;

namespace IommuConformance.Properties.Conformance;

/// <summary>
/// Conformance on machines whose instances are all vtd in scalable mode (docs/pasid-sva.md, "vtd scalable mode"):
/// the generator's memory run with every instance made a scalable vtd, every check on. The RID's DMA goes through
/// RID_PASID's PASID entry, so this walks the scalable root/context/PASID structures and their caches. PASID-tagged
/// DMA is translated too (PasidTranslation is on for a scalable unit), through the PASID entries set_dev_pasid writes.
/// </summary>
public sealed class VtdScalableConformanceProperties
{
    public static readonly TraceGenSettings Settings = TraceGenSettings.Default with { MemoryOps = true };

    public static Trace OnScalableVtd(Trace trace) => trace with
    {
        Topology = new Topology(
            [.. trace.Topology.Iommus.Select(i => i with { Driver = DriverNames.Vtd, Options = i.Options with { Scalable = true } })],
            [.. trace.Topology.Devices.Select(d => d with { Bus = BusNames.Pci, RequireDirect = false })]),
    };

    public static bool IsScalableVtdOnly(Trace trace) =>
        trace.Topology.Iommus.All(i => i.Driver == DriverNames.Vtd && i.Options.Scalable == true)
        && trace.Topology.Devices.All(d => d.Bus == BusNames.Pci && !d.RequireDirect);

    public static Arbitrary<Trace> Traces() =>
        Arb.From(TraceGen.Trace(Settings).Select(OnScalableVtd), t => TraceShrinker.Shrink(t).Where(IsScalableVtdOnly));

    [ConformanceProperty]
    public Property Scalable_vtd_machines_conform_with_memory_operations() =>
        Prop.ForAll(Traces(), (Trace trace) => ConformanceFailure.ThrowIfFailed(Executor.Run(trace)));

    /// <summary>
    /// The property can fail on scalable machines: with the vtd second-level bug partial_unmap_inval_requested_only on,
    /// a stale DID-tagged IOTLB entry reached through the RID_PASID entry shows within a few hundred seeds.
    /// </summary>
    [Fact]
    public void A_stale_second_level_entry_behind_rid_pasid_is_caught()
    {
        var failed = 0;
        for (ulong seed = 0; seed < 300 && failed == 0; seed++)
        {
            var trace = OnScalableVtd(TraceGen.Build(Settings, seed, 100)) with { Bugs = [BugCatalogue.PartialUnmapInvalRequestedOnly] };
            if (!Executor.Run(trace).Conformant) failed++;
        }
        Assert.True(failed > 0);
    }
}
