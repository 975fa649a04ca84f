using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.Scenarios.Sizes;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S7 (generic_pt <c>test_unmap_split</c> and the <c>iommu_unmap()</c> kdoc, hardware-and-peers.md §2.3): for each
/// (small, large) pair of page sizes, map large at A, DMA through it (the IOTLB holds the leaf), unmap small inside
/// it and at its start; then map large at A and at A + large, unmap small at A, and unmap large at A + large.
/// The scenario lets the model accept {large, 0}; this project's contract fixes one answer per driver
/// (docs/operations.md, "unmap of part of a larger leaf"): vtd (generic_pt) removes the whole leaf from its start
/// and answers its size, answers 0 from inside it, and never continues into the next leaf; smmuv3 (io-pgtable-arm
/// since 2024) answers 0 with <c>arm_lpae_unmap_partial_large</c> wherever the range starts and leaves the leaf
/// whole, so the test then unmaps it with the matching size. Either way nothing is ever split: no translation
/// survives for what was removed once the unmap returned (the DMA faults, and G1 sees no stale IOTLB entry), and
/// what was not removed still translates in full.
/// </summary>
public class S7_PartialUnmapOfALargePage
{
    public static TheoryData<string> Drivers => [DriverNames.Smmuv3, DriverNames.Vtd];

    public static readonly (ulong Small, ulong Large)[] Pairs = [(K4, M2), (K4, G1), (M2, G1)];

    public static ScenarioTrace Build(ScenarioDriver driver)
    {
        var t = new ScenarioTrace("S7 partial unmap of a large page", driver);
        var partial = driver.PartialUnmapRemovesLeaf ? [] : new[] { Warn.ArmLpaeUnmapPartialLarge };
        for (var p = 0; p < Pairs.Length; p++)
        {
            var (small, large) = Pairs[p];
            var a = (ulong)(p + 1) * 4 * G1;
            t.Map(a, a, large).Dma(a + large - 8, a + large - 8);
            t.Unmap(a + small, small, 0, partial);                  // from inside the leaf: nothing, on every driver
            t.Dma(a + small + 8, a + small + 8);
            if (driver.PartialUnmapRemovesLeaf)
                t.Unmap(a, small, large).DmaFaults(a + large - 8).DmaFaults(a + 8).Phys(a + small, 0);
            else
                t.Unmap(a, small, 0, partial).Dma(a + large - 8, a + large - 8).Phys(a + small, a + small).Unmap(a, large, large);

            t.Map(a, a, large).Map(a + large, a + large, large).Dma(a + 8, a + 8).Dma(a + large + 8, a + large + 8);
            t.Unmap(a, small, driver.PartialUnmapRemovesLeaf ? large : 0, partial);
            t.Dma(a + large + small, a + large + small).Phys(a + 2 * large - 1, a + 2 * large - 1);   // the second leaf untouched
            if (driver.PartialUnmapRemovesLeaf) t.DmaFaults(a + large - 8);
            else t.Dma(a + large - 8, a + large - 8).Unmap(a, large, large);
            t.Unmap(a + large, large, large).DmaFaults(a + 8).DmaFaults(a + large + 8);
        }
        return t.Teardown();
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Through_the_executor(string driver) => ScenarioRun.ThroughExecutor(Build(ScenarioDriver.Of(driver)).ToTrace());

    [Theory]
    [MemberData(nameof(Drivers))]
    public void In_lockstep_nothing_is_split_and_nothing_removed_survives(string driver)
    {
        var result = ScenarioRun.Lockstep(Build(ScenarioDriver.Of(driver)), (i, system, model) =>
        {
            // G4 after every step: the table's leaves in the pairs' regions are exactly the model's (no split pages).
            foreach (var p in Enumerable.Range(0, Pairs.Length))
            {
                var a = (ulong)(p + 1) * 4 * G1;
                if (system.DomainOfHandle(ScenarioTrace.Domain) is null) return;
                foreach (var probe in new[] { a, a + Pairs[p].Large })
                {
                    var walk = ScenarioRun.DomainOf(system).Pgtable.Walk(probe + Pairs[p].Small);
                    var run = model.MappingsOf(ScenarioTrace.Domain).Find(probe + Pairs[p].Small);
                    Assert.Equal(run?.Leaf, walk.IsOk ? walk.LeafSize : null);
                }
            }
        });
        result.AssertTablePagesAtBaseline();
    }
}
