using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Smmuv3;
using Xunit;
using static IommuConformance.Properties.Scenarios.Sizes;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S19 (the 2015 arm-smmu range-invalidation bug, hardware-and-peers.md §6): map 7 pages across a 2 MiB boundary,
/// DMA to every page (each now in the IOTLB), unmap the range: once unmap returned every page must fault, and no
/// IOTLB entry may still translate any of them (G1). Then the walk-cache half: map [W, W + 4 MiB) as 4 KiB pages
/// (two last-level tables), DMA into both tables (on smmuv3 the walk cache now points at them), unmap the whole
/// range (the core unmaps at 2 MiB, so both tables are removed), and map one page at the same table index in a new
/// region, whose new table reuses a freed frame: a walk-cache entry left for either old table would now walk the
/// new table and reach the new page, which G1 sees; a table freed while still cached is a hardware error.
/// Adaptation: the emulated VT-d has no paging-structure cache, so only the IOTLB half applies there.
/// </summary>
public class S19_RangeInvalidationCompleteness
{
    public static TheoryData<string> Drivers => [DriverNames.Smmuv3, DriverNames.Vtd];

    private const ulong Start = 8 * M2 - 3 * K4, Pa = 0x7_0000_3000, W = 4 * G1, Reuse = 6 * G1;

    public static ScenarioTrace Build(ScenarioDriver driver)
    {
        var t = new ScenarioTrace("S19 range invalidation covers every page (and the walk cache)", driver);
        t.Map(Start, Pa, 7 * K4);
        for (var p = 0UL; p < 7; p++) t.Dma(Start + p * K4 + 16, Pa + p * K4 + 16);
        t.Unmap(Start, 7 * K4, 7 * K4);
        for (var p = 0UL; p < 7; p++) t.DmaFaults(Start + p * K4 + 16);

        t.Map(W, Pa, 2 * M2).Dma(W + 8, Pa + 8).Dma(W + M2 + K4 + 8, Pa + M2 + K4 + 8).Unmap(W, 2 * M2, 2 * M2);
        t.DmaFaults(W + 8).DmaFaults(W + M2 + K4 + 8);
        t.Map(Reuse, 0x9_0000_0000, K4).Map(Reuse + M2 + K4, 0x9_1000_0000, K4);
        t.DmaFaults(W + 8).DmaFaults(W + M2 + K4 + 8).Dma(Reuse + 8, 0x9_0000_0008);
        t.Unmap(Reuse, K4, K4).Unmap(Reuse + M2 + K4, K4, K4);
        return t.Teardown();
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Through_the_executor(string driver) => ScenarioRun.ThroughExecutor(Build(ScenarioDriver.Of(driver)).ToTrace());

    [Theory]
    [MemberData(nameof(Drivers))]
    public void In_lockstep_no_cache_entry_survives_the_unmap(string driver)
    {
        var d = ScenarioDriver.Of(driver);
        var trace = Build(d);
        var tableUnmap = trace.Steps.Select((s, i) => (s, i)).First(x => x.s.Op is Unmap { Iova: W }).i;
        var entriesBefore = 0;
        var result = ScenarioRun.Lockstep(trace, (i, system, _) =>
        {
            if (system.HardwareOf(d.Iommu.Name) is not Smmuv3Hardware smmu) return;
            if (i == tableUnmap - 1) entriesBefore = smmu.WalkCacheCount;
        });
        if (d == ScenarioDriver.Smmuv3) Assert.True(entriesBefore >= 2, "both tables were in the walk cache before the unmap");
        result.AssertTablePagesAtBaseline();
    }
}
