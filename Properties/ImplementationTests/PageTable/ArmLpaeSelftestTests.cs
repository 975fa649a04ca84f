using IommuConformance.Contract;
using IommuConformance.Implementations.PageTable;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.PageTables;

/// <summary>
/// Ports of io-pgtable-arm's selftest (arm_lpae_do_selftests / arm_lpae_run_tests, io-pgtable-arm-selftests.c):
/// every granule × every (IAS ≤ OAS) pair of {32, 36, 40, 42, 44, 48} × stage 1 and 2 = 126 format runs. The
/// historical split-on-partial-unmap step (removed in 2024) is not ported; its replacement rule is in
/// <see cref="ArmLpaeRuleTests"/>.
/// </summary>
public class ArmLpaeSelftestTests
{
    private const ulong SZ_1G = 1UL << 30;
    private const IommuProt RwNoexecCache = IommuProt.Read | IommuProt.Write | IommuProt.NoExec | IommuProt.Cache;

    public static TheoryData<ArmLpaeStage, ulong, int, int> SelftestConfigs()
    {
        var data = new TheoryData<ArmLpaeStage, ulong, int, int>();
        foreach (var granule in ArmLpaeConfig.Granules)
            foreach (var oas in ArmLpaeConfig.SelftestAddressSizes)
                foreach (var ias in ArmLpaeConfig.SelftestAddressSizes.Where(i => i <= oas))
                    foreach (var stage in new[] { ArmLpaeStage.Stage1, ArmLpaeStage.Stage2 })
                        data.Add(stage, granule, ias, oas);
        return data;
    }

    [Theory]
    [MemberData(nameof(SelftestConfigs))]
    public void Arm_lpae_run_tests(ArmLpaeStage stage, ulong granule, int ias, int oas)
    {
        var rig = PageTableRig.Arm(new ArmLpaeConfig(stage, granule, ias, oas));
        var ops = rig.Ops;
        var sizes = Enumerable.Range(0, 64).Select(b => 1UL << b).Where(s => (ops.PgsizeBitmap & s) != 0).ToArray();

        // Empty-table sanity
        Assert.Equal(0UL, rig.Translate(42));
        Assert.Equal(0UL, rig.Translate(SZ_1G + 42));
        Assert.Equal(0UL, rig.Translate(2 * SZ_1G + 42));

        // Every page size: map, overmap must fail, translate
        var iova = 0UL;
        foreach (var size in sizes)
        {
            Assert.Equal(Errno.OK, rig.MapPages(iova, iova, size, 1, RwNoexecCache, out var mapped));
            Assert.Equal(size, mapped);
            Assert.NotEqual(Errno.OK, rig.MapPages(iova, iova + size, size, 1, IommuProt.Read | IommuProt.NoExec, out _));
            Assert.Equal([PgtableWarning.ArmMapExists], rig.Warnings());
            Assert.Equal(iova + 42, rig.Translate(iova + 42));
            iova += SZ_1G;
        }

        // Full unmap and remap write-only
        iova = 0;
        foreach (var size in sizes)
        {
            Assert.Equal(size, rig.UnmapPages(iova, size));
            Assert.Equal(0UL, rig.Translate(iova + 42));
            Assert.Equal(Errno.OK, rig.MapPages(iova, iova, size, 1, IommuProt.Write, out _));
            Assert.Equal(iova + 42, rig.Translate(iova + 42));
            iova += SZ_1G;
        }

        // The last page of the IAS (the concatenated stage-2 pgd fix)
        var largest = sizes[^1];
        var lastIova = (1UL << ias) - largest;
        if (lastIova >= iova)
        {
            Assert.Equal(Errno.OK, rig.MapPages(lastIova, lastIova, largest, 1, RwNoexecCache, out var m));
            Assert.Equal(largest, m);
            Assert.Equal(lastIova + 42, rig.Translate(lastIova + 42));
            Assert.Equal(largest, rig.UnmapPages(lastIova, largest));
        }
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }

    [Theory]
    [MemberData(nameof(SelftestConfigs))]
    public void Large_range_maps_with_the_best_page_sizes_and_unmaps_whole(ArmLpaeStage stage, ulong granule, int ias, int oas)
    {
        var rig = PageTableRig.Arm(new ArmLpaeConfig(stage, granule, ias, oas));
        var sizes = Enumerable.Range(0, 64).Select(b => 1UL << b).Where(s => (rig.Ops.PgsizeBitmap & s) != 0).ToArray();
        // From one granule below a block boundary to one granule past the next: small, block(s), small.
        var block = sizes[1];
        var start = block - granule;
        var length = 2 * granule + block;
        Assert.Equal(Errno.OK, rig.Map(start, start, length));
        Assert.Equal([(start, granule), (block, block), (block + block, granule)], rig.Leaves(start, start + length));
        Assert.Equal(length, rig.Unmap(start, length));
        Assert.Empty(rig.Leaves(start, start + length));
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }
}
