using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Smmuv3;
using Xunit;
using static IommuConformance.Properties.Scenarios.Sizes;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S6 (generic_pt <c>test_map_table_to_oa</c>, hardware-and-peers.md §2.4): fill a 2 MiB window with 4 KiB pages
/// (one map each), DMA through them (the IOTLB and, on smmuv3, the walk cache now hold the window's last-level
/// table), unmap the first half in one call and the rest page by page, then map one 2 MiB page over the window: it
/// must succeed, the emptied table must be replaced by the leaf and its page freed — and only after the invalidation
/// that covers it (smmuv3: TLBI_NH_VA with LEAF = 0, which also drops walk-cache entries, then SYNC). A table page
/// freed while the walk cache still points at it is a hardware error; a stale walk-cache entry that survives is
/// seen by G1 (the walk resumed from it reads the freed page). Leaves per size against the model (G4), table pages
/// one frame lower after the collapse and back at the baseline after the domain is freed (G3). Adaptation: the
/// window is 2 MiB (the page-table port <c>VtdssKunitTests.Test_map_table_to_oa</c> fills every window size); the
/// mock keeps its tables until teardown, so it has no collapse to check.
/// </summary>
public class S6_TableToOaCollapse
{
    public static TheoryData<string> Drivers => [DriverNames.Smmuv3, DriverNames.Vtd];

    private const ulong Window = G1, Pa = G4, Pa2 = 2 * G4;

    public static ScenarioTrace Build(ScenarioDriver driver)
    {
        var t = new ScenarioTrace("S6 generic_pt map_table_to_oa: an emptied table replaced by a 2 MiB leaf", driver);
        for (var off = 0UL; off < M2; off += K4) t.Map(Window + off, Pa + off, K4);
        for (var off = 0UL; off < M2; off += 32 * K4) t.Dma(Window + off + 8, Pa + off + 8);
        t.Unmap(Window, M1, M1);
        for (var off = M1; off < M2; off += K4) t.Unmap(Window + off, K4, K4);
        t.DmaFaults(Window + 8).DmaFaults(Window + M2 - 8);
        t.Map(Window, Pa2, M2);
        for (var off = 0UL; off < M2; off += 32 * K4) t.Dma(Window + off + 8, Pa2 + off + 8, write: true);
        t.Phys(Window + M2 - 1, Pa2 + M2 - 1).Unmap(Window, M2, M2).DmaFaults(Window + 8);
        return t.Teardown();
    }

    private static int IndexOf(ScenarioTrace t, Func<Operation, bool> pick) => t.Steps.Select((s, i) => (s, i)).First(x => pick(x.s.Op)).i;

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Through_the_executor(string driver) => ScenarioRun.ThroughExecutor(Build(ScenarioDriver.Of(driver)).ToTrace());

    [Theory]
    [MemberData(nameof(Drivers))]
    public void In_lockstep_the_table_goes_after_its_invalidation(string driver)
    {
        var d = ScenarioDriver.Of(driver);
        var trace = Build(d);
        var firstMap = ScenarioTrace.BaselineStep + 3;
        var collapse = IndexOf(trace, op => op is Map { Size: M2 });
        var filled = collapse - 1;
        List<(ulong, ulong)>? small = null, large = null, empty = null;
        long walkCacheHits = 0;
        var result = ScenarioRun.Lockstep(trace, (i, system, model) =>
        {
            if (i == firstMap + 512 - 1) small = LeafChecks.AssertLeavesAsModel(system, model, Window, Window + M2);
            if (i == filled) empty = ScenarioRun.Leaves(ScenarioRun.DomainOf(system).Pgtable, Window, Window + M2);
            if (i == collapse)
            {
                large = LeafChecks.AssertLeavesAsModel(system, model, Window, Window + M2);
                if (system.HardwareOf(d.Iommu.Name) is Smmuv3Hardware smmu)
                {
                    Assert.Null(smmu.WalkCacheEntry(ScenarioRun.DomainOf(system).Id, Window, M2));
                    walkCacheHits = smmu.WalkCacheHits;
                }
            }
        });
        Assert.Equal(512, small!.Count);
        Assert.All(small, l => Assert.Equal(K4, l.Item2));
        Assert.Empty(empty!);
        Assert.Equal([(Window, M2)], large!);
        Assert.Equal(result.LiveFramesAfter[firstMap] - 1, result.LiveFramesAfter[collapse]);
        if (d == ScenarioDriver.Smmuv3) Assert.True(walkCacheHits > 0, "the DMAs went through the walk cache, so a stale entry would have been used");
        result.AssertTablePagesAtBaseline();
    }
}
