using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.Scenarios.Sizes;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S3 (hardware-and-peers.md §6; io-pgtable-arm's selftest, §2.1 steps 1–3, 5, 6) with the device: on the driver's
/// domain, for each page size at 0, 1 GiB, 2 GiB: map, an overmap that must fail, iova_to_phys, and a DMA at
/// iova+42 that must reach iova+42; then unmap (exactly the size), iova_to_phys 0 and a DMA that must fault (strict
/// mode: the IOTLB entry the first DMA left must be gone), remap write-only and DMA again; then the last 1 GiB page
/// of the 48-bit IAS. Adaptations: the format matrix itself (3 granules × 21 IAS ≤ OAS pairs × S1/S2 = 126 runs) is
/// already ported at page-table level as <c>ArmLpaeSelftestTests.Arm_lpae_run_tests</c> and is not run twice; the
/// emulated SMMU walks only its driver's configuration (S1, 4K, 48/48), so the device part runs there, and on vtd
/// (same page sizes) with its overmap errno (EADDRINUSE, no warning). Write-only on smmuv3 also grants read (LPAE S1
/// has no write-only encoding, docs/operations.md), so the remapped page is checked with a write.
/// </summary>
public class S3_LpaeSelftestMatrix
{
    public static TheoryData<string> Drivers => [DriverNames.Smmuv3, DriverNames.Vtd];

    public static ScenarioTrace Build(ScenarioDriver driver)
    {
        var t = new ScenarioTrace("S3 LPAE selftest sequence with device DMA", driver);
        t.Phys(42, 0).Phys(G1 + 42, 0).Phys(2 * G1 + 42, 0);
        var iova = 0UL;
        foreach (var size in PageSizes)
        {
            t.Map(iova, iova, size, "rwcn").Overmap(iova, iova + size, size, "rn").Phys(iova + 42, iova + 42).Dma(iova + 42, iova + 42);
            iova += G1;
        }
        iova = 0;
        foreach (var size in PageSizes)
        {
            t.Unmap(iova, size, size).Phys(iova + 42, 0).DmaFaults(iova + 42)
                .Map(iova, iova, size, "w").Phys(iova + 42, iova + 42).Dma(iova + 42, iova + 42, write: true);
            iova += G1;
        }
        var last = (1UL << 48) - G1;
        t.Map(last, last, G1, "rwcn").Dma(last + 42, last + 42).Unmap(last, G1, G1).DmaFaults(last + 42);
        foreach (var (at, size) in PageSizes.Select((s, i) => ((ulong)i * G1, s))) t.Unmap(at, size, size);
        return t.Teardown();
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Through_the_executor(string driver) => ScenarioRun.ThroughExecutor(Build(ScenarioDriver.Of(driver)).ToTrace());

    [Theory]
    [MemberData(nameof(Drivers))]
    public void In_lockstep_with_the_global_checks(string driver)
    {
        var result = ScenarioRun.Lockstep(Build(ScenarioDriver.Of(driver)));
        result.AssertTablePagesAtBaseline();
        Assert.True(result.ProbesChecked > 100);
    }
}
