using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.Scenarios.Sizes;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S9 (generic_pt <c>test_pgsize_boundary</c> and <c>test_mixed</c>, hardware-and-peers.md §2.4): the AMD regression
/// map [0xfef80000, 0xfef9ffff] → 0x208b95d000 must succeed; va = pa = [0x3fe400000, 0x4c0600000) must take exactly
/// 20 leaves (14 × 2M up to the 1G boundary, 3 × 1G, 3 × 2M) and translate correctly everywhere (each leaf's first
/// and last byte by iova_to_phys and DMA in the trace; every 2 MiB slice and the first and last byte of every 4 KiB
/// page of the first range in lockstep). On smmuv3 and vtd (both have 2M and 1G); the page-table ports are in
/// <c>VtdssKunitTests</c>.
/// </summary>
public class S9_BoundaryRegressions
{
    public static TheoryData<string> Drivers => [DriverNames.Smmuv3, DriverNames.Vtd];

    private const ulong AmdVa = 0xfef80000, AmdLen = 0x20000, AmdPa = 0x208b95d000;
    private const ulong MixedStart = 0x3fe400000, MixedEnd = 0x4c0600000;

    public static readonly (ulong Iova, ulong Size)[] MixedLeaves =
    [
        .. Enumerable.Range(0, 14).Select(i => (MixedStart + (ulong)i * M2, M2)),
        .. Enumerable.Range(0, 3).Select(i => (0x400000000UL + (ulong)i * G1, G1)),
        .. Enumerable.Range(0, 3).Select(i => (0x4c0000000UL + (ulong)i * M2, M2)),
    ];

    public static ScenarioTrace Build(ScenarioDriver driver)
    {
        var t = new ScenarioTrace("S9 generic_pt pgsize_boundary and mixed", driver);
        t.Map(AmdVa, AmdPa, AmdLen).Phys(AmdVa, AmdPa).Phys(AmdVa + AmdLen - 1, AmdPa + AmdLen - 1)
            .Dma(AmdVa + 0x1_0000, AmdPa + 0x1_0000).DmaFaults(AmdVa + AmdLen);
        t.Map(MixedStart, MixedStart, MixedEnd - MixedStart);
        foreach (var (iova, size) in MixedLeaves) t.Phys(iova, iova).Phys(iova + size - 1, iova + size - 1).Dma(iova + 8, iova + 8);
        t.DmaFaults(MixedEnd).DmaFaults(MixedStart - 4);
        t.Unmap(MixedStart, MixedEnd - MixedStart, MixedEnd - MixedStart).Unmap(AmdVa, AmdLen, AmdLen);
        return t.Teardown();
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Through_the_executor(string driver) => ScenarioRun.ThroughExecutor(Build(ScenarioDriver.Of(driver)).ToTrace());

    [Theory]
    [MemberData(nameof(Drivers))]
    public void In_lockstep_with_exactly_twenty_leaves(string driver)
    {
        var trace = Build(ScenarioDriver.Of(driver));
        var mixedAt = trace.Steps.Select((s, i) => (s, i)).First(x => x.s.Op is Map { Iova: MixedStart }).i;
        List<(ulong, ulong)>? leaves = null;
        var result = ScenarioRun.Lockstep(trace, (i, system, model) =>
        {
            if (i != mixedAt) return;
            leaves = LeafChecks.AssertLeavesAsModel(system, model, MixedStart, MixedEnd);
            var domain = ScenarioRun.DomainOf(system);
            for (var iova = MixedStart; iova < MixedEnd; iova += M2) Assert.Equal(iova + 0x123, domain.IovaToPhys(iova + 0x123, out _));
            for (var off = 0UL; off < AmdLen; off += K4)
            {
                Assert.Equal(AmdPa + off, domain.IovaToPhys(AmdVa + off, out _));
                Assert.Equal(AmdPa + off + K4 - 1, domain.IovaToPhys(AmdVa + off + K4 - 1, out _));
            }
        });
        Assert.Equal(MixedLeaves, leaves!);
        Assert.Equal((14 + 3, 3), (leaves!.Count(l => l.Item2 == M2), leaves!.Count(l => l.Item2 == G1)));
        result.AssertTablePagesAtBaseline();
    }
}
