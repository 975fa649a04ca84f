using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.PageTable;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.PageTables;

/// <summary>
/// Ports of the generic page-table KUnit iommu suite (drivers/iommu/generic_pt/kunit_iommu_pt.h) on the vtdss
/// format, for its three configurations (39, 48 and 57 VA bits). Each test ends with the suite's leak check:
/// table pages back to the count at init after teardown.
/// </summary>
public class VtdssKunitTests
{
    private const ulong K4 = 1UL << 12, M2 = 1UL << 21, G1 = 1UL << 30;
    private static readonly ulong[] Sizes = [K4, M2, G1];

    public static TheoryData<int> Configs() => [39, 48, 57];

    private static ulong TestOa(int oas) => 0x74a71445deadbeefUL & ((1UL << oas) - 1);

    [Theory]
    [MemberData(nameof(Configs))]
    public void Test_map_simple(int vaBits)
    {
        var rig = PageTableRig.Vtd(vaBits);
        var va = 256 * K4;
        var mapped = new List<(ulong Va, ulong Size)>();
        foreach (var size in Sizes.Where(s => s < 1UL << (vaBits - 1)))
        {
            va = (va + size - 1) & ~(size - 1);
            var oa = TestOa(rig.Ops.Oas) & ~(size - 1);
            Assert.Equal(Errno.OK, rig.Map(va, oa, size));
            for (ulong off = 0; off < size; off += Math.Max(K4, size / 64))   // linear translation, sampled for large pages
                Assert.Equal(oa + off, rig.Translate(va + off));
            Assert.Equal(oa + size - 1, rig.Translate(va + size - 1));
            mapped.Add((va, size));
            va += size;
        }
        foreach (var (v, size) in mapped) Assert.Equal([(v, size)], rig.Leaves(v, v + size)); // one leaf per size
        foreach (var (v, size) in mapped) Assert.Equal(size, rig.Unmap(v, size));
        foreach (var (v, size) in mapped) Assert.Empty(rig.Leaves(v, v + size));
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Test_map_table_to_oa(int vaBits)
    {
        // Fill one 1 GiB window with each size in turn; the emptied lower tables give way to the larger leaf.
        var rig = PageTableRig.Vtd(vaBits);
        var window = G1;
        var va = 4 * G1;
        foreach (var size in new[] { M2, G1 })
        {
            var oa = TestOa(rig.Ops.Oas) & ~(G1 - 1);
            for (ulong off = 0; off < window; off += size) Assert.Equal(Errno.OK, rig.Map(va + off, oa + off, size));
            Assert.Equal(oa + window - K4 + 9, rig.Translate(va + window - K4 + 9));
            Assert.Equal((int)(window / size), rig.Leaves(va, va + window).Count(l => l.Size == size));
            if (size == window) Assert.Equal(window, rig.Unmap(va, window));
            else
            {
                Assert.Equal(window / 2, rig.Unmap(va, window / 2));
                for (var v = va + window / 2; v < va + window; v += size) Assert.Equal(size, rig.Unmap(v, size));
            }
            Assert.Empty(rig.Leaves(va, va + window));
        }
        // 4K pages into one 2M window, then a 2M leaf over the emptied table
        Assert.Equal(Errno.OK, rig.Map(va, 0x1234_0000_0000 & ((1UL << rig.Ops.Oas) - 1), 512 * K4 / 2));
        Assert.Equal(256 * K4, rig.Unmap(va, 256 * K4));
        Assert.Equal(Errno.OK, rig.Map(va, 0, M2));
        Assert.Equal([(va, M2)], rig.Leaves(va, va + M2));
        Assert.Equal(M2, rig.Unmap(va, M2));
        rig.FreeAndCheckBaseline();
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Test_unmap_split(int vaBits)
    {
        var rig = PageTableRig.Vtd(vaBits);
        foreach (var large in Sizes.Where(s => s < 1UL << (vaBits - 2)))
            foreach (var small in Sizes.Where(s => s < large))
            {
                var va = 2 * large;
                Assert.Equal(Errno.OK, rig.Map(va, va, large));
                Assert.Equal(large, rig.Unmap(va, small));               // the whole large page goes, its size answered
                Assert.Empty(rig.Leaves(va, va + large));
                Assert.Equal(Errno.OK, rig.Map(va, va, large));
                Assert.Equal(Errno.OK, rig.Map(va + large, va + large, large));
                Assert.Equal(large, rig.Unmap(va, small));               // and does not run on into the next one
                Assert.Equal([(va + large, large)], rig.Leaves(va, va + 2 * large));
                Assert.Equal(large, rig.Unmap(va + large, large));
            }
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Test_random_map()
    {
        var rig = PageTableRig.Vtd(48);
        var rnd = new Random(20261201);
        var live = new List<(ulong Start, ulong Len)>();
        for (var iter = 0; iter < 400; iter++)
        {
            var start = (ulong)rnd.NextInt64(0, 1L << 18) * K4;            // inside the first GiB
            var len = (ulong)rnd.NextInt64(1, 1L << (rnd.Next(2) == 0 ? 4 : 11)) * K4;
            if (start + len > G1) len = G1 - start;
            var pa = start + 0x10_0000_0000;
            var r = rig.Map(start, pa, len);
            if (r != Errno.OK)
            {
                Assert.Equal(Errno.EADDRINUSE, r);
                foreach (var old in live.Where(o => o.Start < start + len && start < o.Start + o.Len).ToList())
                {
                    Assert.Equal(old.Start + 0x10_0000_0000 + 5, rig.Translate(old.Start + 5));
                    Assert.Equal(old.Len, rig.Unmap(old.Start, old.Len));
                    live.Remove(old);
                }
                Assert.Equal(Errno.OK, rig.Map(start, pa, len));
            }
            live.Add((start, len));
            Assert.Equal(pa + len - 1, rig.Translate(start + len - 1));
        }
        foreach (var (s, l) in live) Assert.Equal(l, rig.Unmap(s, l));
        Assert.Empty(rig.Leaves(0, G1));
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Test_pgsize_boundary()
    {
        var rig = PageTableRig.Vtd(48);
        Assert.Equal(Errno.OK, rig.Map(0xfef80000, 0x208b95d000, 0xfef9ffffUL - 0xfef80000 + 1));
        Assert.Equal(0x208b95d000UL + 0x1fff0, rig.Translate(0xfef9fff0));
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Test_mixed()
    {
        var rig = PageTableRig.Vtd(48);
        const ulong start = 0x3fe400000, end = 0x4c0600000;
        Assert.Equal(Errno.OK, rig.Map(start, start, end - start));
        var leaves = rig.Leaves(start, end);
        Assert.Equal(20, leaves.Count);
        Assert.Equal((17, 3), (leaves.Count(l => l.Size == M2), leaves.Count(l => l.Size == G1)));
        Assert.Equal(0x4c0500000UL + 77, rig.Translate(0x4c0500000 + 77));
        Assert.Equal(end - start, rig.Unmap(start, end - start));
        rig.FreeAndCheckBaseline();
    }
}

/// <summary>The generic_pt rules of the spec's driver table (vtd row), bad input, and the second-stage walk.</summary>
public class VtdssRuleTests
{
    private const ulong K4 = 1UL << 12, M2 = 1UL << 21;

    [Fact]
    public void Overmap_is_EADDRINUSE_without_a_warning_and_leaves_the_old_mapping()
    {
        var rig = PageTableRig.Vtd();
        Assert.Equal(Errno.OK, rig.Map(M2 + K4, 0x7000, K4));
        Assert.Equal(Errno.EADDRINUSE, rig.Map(M2, M2, M2));                 // a large leaf over a live table
        Assert.Equal(Errno.EADDRINUSE, rig.Map(0, 0x10_0000, 2 * M2));       // a run whose end overlaps: unwound
        Assert.Equal(Errno.EADDRINUSE, rig.Map(M2 + K4, 0x9000, K4));
        Assert.Empty(rig.Warnings());
        Assert.Equal([(M2 + K4, K4)], rig.Leaves(0, 4 * M2));
        Assert.Equal(0x7000UL, rig.Translate(M2 + K4));
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Unmap_inside_a_large_leaf_or_at_a_hole_answers_0_and_the_gather_covers_a_whole_removed_leaf()
    {
        var rig = PageTableRig.Vtd();
        Assert.Equal(Errno.OK, rig.Map(M2, 0x4000_0000, M2));
        Assert.Equal(0UL, rig.Unmap(M2 + K4, K4));
        Assert.Equal(0UL, rig.Unmap(8 * M2, K4));
        Assert.Equal([(M2, M2)], rig.Leaves(M2, 2 * M2));
        Assert.Equal(M2, IommuMapping.Unmap(rig.Ops, M2, K4, rig.Gather));
        Assert.Equal((M2, 2 * M2 - 1), (rig.Gather.Start, rig.Gather.End));
        rig.Sync();
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Unmap_of_a_fully_covered_table_hands_it_to_the_gather()
    {
        var rig = PageTableRig.Vtd();
        Assert.Equal(Errno.OK, rig.Map(0, 0x10_0000, M2, IommuProt.Read));  // pa not 2M aligned: 512 4K pages
        var live = rig.Allocator.LiveFrames;
        Assert.Equal(M2, IommuMapping.Unmap(rig.Ops, 0, M2, rig.Gather));
        Assert.Equal(1, rig.Gather.FreelistCount);
        Assert.Equal(live, rig.Allocator.LiveFrames);
        rig.Sync();
        Assert.Equal(live - 1, rig.Allocator.LiveFrames);
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Bad_input_answers_an_errno_and_changes_nothing()
    {
        var rig = PageTableRig.Vtd(39);
        Assert.Equal(Errno.EINVAL, rig.Map(0, 0, K4, IommuProt.Cache));
        Assert.Equal([PgtableWarning.PtMapNoAccess], rig.Warnings());
        Assert.Equal(Errno.ERANGE, rig.Map(1UL << 39, 0, K4));
        Assert.Equal(Errno.ERANGE, rig.Map(0, 1UL << 48, K4));
        Assert.Equal(Errno.EINVAL, rig.Map(K4 / 2, 0, K4));
        Assert.Equal(0UL, rig.Unmap(1UL << 39, K4));
        Assert.Equal(WalkStatus.TranslationFault, rig.Ops.Walk(1UL << 39).Status);
        Assert.Empty(rig.Leaves(0, 4 * M2));
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Walk_reports_not_present_levels_rights_and_aborts()
    {
        var rig = PageTableRig.Vtd();
        Assert.Equal((WalkStatus.TranslationFault, 3), (rig.Ops.Walk(0).Status, rig.Ops.Walk(0).Level));
        Assert.Equal(Errno.OK, rig.Map(M2, 0x5000, K4, IommuProt.Write));
        Assert.Equal((WalkStatus.TranslationFault, 0), (rig.Ops.Walk(M2 + K4).Status, rig.Ops.Walk(M2 + K4).Level));
        Assert.Equal(WalkStatus.PermissionFault, rig.Ops.Walk(M2, IommuPerm.Read).Status);
        Assert.Equal(0x5000UL + 3, rig.Ops.Walk(M2 + 3, IommuPerm.Write).Phys);
        rig.Memory.Unback(rig.Ops.RootPhys);
        Assert.Equal(WalkStatus.ExternalAbort, rig.Ops.Walk(M2).Status);
    }
}
