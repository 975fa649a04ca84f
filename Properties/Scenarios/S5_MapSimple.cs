using IommuConformance.Contract;
using IommuConformance.Implementations;
using Xunit;
using static IommuConformance.Properties.Scenarios.Sizes;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S5 (generic_pt <c>test_map_simple</c>, hardware-and-peers.md §2.4): from va = 256 smallest pages, for each page size
/// ascending, align va up, map one page to test_oa (0x74a71445deadbeef reduced to the output size, aligned down),
/// check that every smallest-page slice translates linearly, advance; then exactly one leaf per page size, each unmap
/// answers its length, no leaf is left, and table pages are back at the baseline. At system level, on the drivers
/// with more than one page size (smmuv3: 48-bit output; vtd: 52-bit), with a DMA at the first and last byte of each
/// page. The page-table port of the same test is <c>VtdssKunitTests</c>.
/// </summary>
public class S5_MapSimple
{
    public static TheoryData<string> Drivers => [DriverNames.Smmuv3, DriverNames.Vtd];

    private const ulong TestOa = 0x74a71445deadbeef;

    private static ulong Oa(ScenarioDriver d) => TestOa & ((1UL << (d == ScenarioDriver.Vtd ? 52 : 48)) - 1);

    /// <summary>(va, pa, size) of each page the test maps.</summary>
    public static List<(ulong Va, ulong Pa, ulong Size)> Pages(ScenarioDriver driver)
    {
        var pages = new List<(ulong, ulong, ulong)>();
        var va = 256 * K4;
        foreach (var size in PageSizes)
        {
            va = (va + size - 1) & ~(size - 1);
            pages.Add((va, Oa(driver) & ~(size - 1), size));
            va += size;
        }
        return pages;
    }

    public static ScenarioTrace Build(ScenarioDriver driver)
    {
        var t = new ScenarioTrace("S5 generic_pt map_simple", driver);
        foreach (var (va, pa, size) in Pages(driver))
            t.Map(va, pa, size).Phys(va, pa).Phys(va + size / 2 + 42, pa + size / 2 + 42).Phys(va + size - 1, pa + size - 1)
                .Dma(va, pa).Dma(va + size - 4, pa + size - 4, write: true);
        foreach (var (va, _, size) in Pages(driver)) t.Unmap(va, size, size).Phys(va, 0).DmaFaults(va);
        return t.Teardown();
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Through_the_executor(string driver) => ScenarioRun.ThroughExecutor(Build(ScenarioDriver.Of(driver)).ToTrace());

    [Theory]
    [MemberData(nameof(Drivers))]
    public void In_lockstep_with_one_leaf_per_size_and_linear_slices(string driver)
    {
        var d = ScenarioDriver.Of(driver);
        var pages = Pages(d);
        var (start, end) = (pages[0].Va, pages[^1].Va + pages[^1].Size);
        var trace = Build(d);
        var mappedAt = trace.Steps.Select((s, i) => (s, i)).Last(x => x.s.Op is Map).i + 4;   // after the last page's checks
        var unmappedAt = trace.Steps.Select((s, i) => (s, i)).Last(x => x.s.Op is Unmap).i;
        List<(ulong, ulong)>? leavesMapped = null, leavesUnmapped = null;
        var result = ScenarioRun.Lockstep(trace, (i, system, model) =>
        {
            if (i == unmappedAt) leavesUnmapped = ScenarioRun.Leaves(ScenarioRun.DomainOf(system).Pgtable, start, end);
            if (i != mappedAt) return;
            var domain = ScenarioRun.DomainOf(system);
            foreach (var (va, pa, size) in pages)
                for (var off = 0UL; off < size; off += K4)
                    Assert.Equal(pa + off + 42, domain.IovaToPhys(va + off + 42, out _));
            leavesMapped = LeafChecks.AssertLeavesAsModel(system, model, start, end);
        });
        Assert.Equal(pages.Select(p => (p.Va, p.Size)), leavesMapped!);
        Assert.Empty(leavesUnmapped!);
        result.AssertTablePagesAtBaseline();
    }
}
