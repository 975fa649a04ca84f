using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.PageTable;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.PageTables;

/// <summary>The io-pgtable-arm rules of the spec's driver table (smmuv3 row), bad input, and the hardware walk.</summary>
public class ArmLpaeRuleTests
{
    private const ulong K4 = 1UL << 12, M2 = 1UL << 21, G1 = 1UL << 30;
    private static PageTableRig S1() => PageTableRig.Arm(new ArmLpaeConfig(ArmLpaeStage.Stage1, K4, 48, 48));

    [Fact]
    public void Partial_unmap_of_a_block_returns_0_with_a_warning_and_splits_nothing()
    {
        var rig = S1();
        Assert.Equal(Errno.OK, rig.Map(M2, M2, M2));
        Assert.Equal(0UL, rig.Unmap(M2 + K4, K4));
        Assert.Equal([PgtableWarning.ArmUnmapPartialLarge], rig.Warnings());
        Assert.Equal(0UL, rig.Unmap(M2, K4));                     // even at the block's start: no split
        Assert.Equal([PgtableWarning.ArmUnmapPartialLarge], rig.Warnings());
        Assert.Equal([(M2, M2)], rig.Leaves(M2, 2 * M2));
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Unmap_of_an_empty_entry_returns_0_with_a_warning_and_unmap_stops_at_the_first_hole()
    {
        var rig = S1();
        Assert.Equal(0UL, rig.Unmap(G1, K4));
        Assert.Equal([PgtableWarning.ArmUnmapEmpty], rig.Warnings());
        Assert.Equal(Errno.OK, rig.Map(0, 0x10_0000, 2 * K4));
        Assert.Equal(2 * K4, rig.Unmap(0, 4 * K4));               // two pages, then the hole
        // unmap_pages(0, 4K, 4) stops at the hole with one warning; the core retries there and gets a second
        Assert.Equal([PgtableWarning.ArmUnmapEmpty, PgtableWarning.ArmUnmapEmpty], rig.Warnings());
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Overmap_is_EEXIST_with_a_warning_and_a_failed_multi_page_map_leaves_nothing()
    {
        var rig = S1();
        Assert.Equal(Errno.OK, rig.Map(8 * K4, 0x40_0000, K4));
        Assert.Equal(Errno.EEXIST, rig.Map(0, 0x80_0000, 16 * K4));
        Assert.Equal([PgtableWarning.ArmMapExists], rig.Warnings());
        Assert.Equal([(8 * K4, K4)], rig.Leaves(0, 16 * K4));     // pages 0..7 were mapped, then unwound
        Assert.Equal(0x40_0000UL, rig.Translate(8 * K4));
        Assert.Equal(Errno.OK, rig.Map(M2, M2, M2));
        Assert.Equal(Errno.EEXIST, rig.Map(M2 + K4, 0, K4));        // a page under a block
        Assert.Equal([PgtableWarning.ArmMapExists], rig.Warnings()[..1]);
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void A_block_over_a_table_unlinks_the_table_into_the_gather_not_to_the_allocator()
    {
        var rig = S1();
        Assert.Equal(Errno.OK, rig.Map(M2, 0x4000_0000, K4));
        Assert.Equal(K4, rig.Unmap(M2, K4));                       // the level-3 table stays, empty
        var framesWithTable = rig.Allocator.LiveFrames;
        Assert.Equal(Errno.OK, IommuMapping.Map(rig.Ops, M2, M2, M2, IommuProt.Read, rig.Gather));
        Assert.Equal(1, rig.Gather.FreelistCount);                  // unlinked, not yet freed
        Assert.Equal(framesWithTable, rig.Allocator.LiveFrames);
        Assert.Equal((M2, 2 * M2 - 1), (rig.Gather.Start, rig.Gather.End));
        rig.Sync();
        Assert.Equal(framesWithTable - 1, rig.Allocator.LiveFrames);
        Assert.Equal(M2 + 5, rig.Translate(M2 + 5));
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Arm_block_over_live_pages_replaces_them_as_arm_lpae_init_pte_does()
    {
        // arm_lpae_init_pte unmaps a table before writing a block, whatever the table still maps: the only
        // overmap io-pgtable-arm accepts. Pinned so a driver or model built on this sees the kernel's behaviour.
        var rig = S1();
        Assert.Equal(Errno.OK, rig.Map(M2 + K4, 0x4000_0000, K4));
        Assert.Equal(Errno.OK, rig.Map(M2, M2, M2));
        Assert.Equal(M2 + K4, rig.Translate(M2 + K4));
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Table_pages_freed_by_unmap_wait_in_the_gather()
    {
        var rig = S1();
        Assert.Equal(Errno.OK, rig.Map(0, 0x10_0000, 4 * K4));
        var live = rig.Allocator.LiveFrames;
        Assert.Equal(M2, IommuMapping.Unmap(rig.Ops, 0, M2, rig.Gather)); // the level-2 entry is a table: removed whole
        Assert.Equal(1, rig.Gather.FreelistCount);
        Assert.Equal(live, rig.Allocator.LiveFrames);
        Assert.Equal(WalkStatus.TranslationFault, rig.Ops.Walk(0).Status);
        rig.Sync();
        Assert.Equal(live - 1, rig.Allocator.LiveFrames);
        rig.FreeAndCheckBaseline();
    }

    [Theory]
    [InlineData(1UL, 0UL, K4)]          // unaligned iova
    [InlineData(0UL, 1UL, K4)]          // unaligned paddr
    [InlineData(0UL, 0UL, 100UL)]       // unaligned size
    [InlineData(0UL, 0UL, 0UL)]         // size 0
    public void Misaligned_or_empty_maps_are_EINVAL_and_change_nothing(ulong iova, ulong paddr, ulong size)
    {
        var rig = S1();
        var frames = rig.Allocator.LiveFrames;
        Assert.Equal(Errno.EINVAL, rig.Map(iova, paddr, size));
        Assert.Equal(0UL, rig.Unmap(iova, size));
        Assert.Equal(frames, rig.Allocator.LiveFrames);
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Past_the_IAS_or_OAS_is_ERANGE_with_a_warning_and_no_prot_is_EINVAL()
    {
        var rig = PageTableRig.Arm(new ArmLpaeConfig(ArmLpaeStage.Stage2, K4, 36, 40));
        Assert.Equal(Errno.ERANGE, rig.Map(1UL << 36, 0, K4));
        Assert.Equal(Errno.ERANGE, rig.Map((1UL << 36) - K4, 0, 2 * K4));
        Assert.Equal(Errno.ERANGE, rig.Map(0, 1UL << 40, K4));
        Assert.Equal([PgtableWarning.ArmMapRange, PgtableWarning.ArmMapRange, PgtableWarning.ArmMapRange], rig.Warnings());
        Assert.Equal(Errno.EINVAL, rig.Map(0, 0, K4, IommuProt.Cache));
        Assert.Equal(Errno.EINVAL, rig.MapPages(0, 0, 8 * K4, 1, IommuProt.Read, out _));
        Assert.Equal([PgtableWarning.ArmMapBadPgsize], rig.Warnings());
        Assert.Empty(rig.Leaves(0, 4 * M2));
        Assert.Equal(WalkStatus.TranslationFault, rig.Ops.Walk(1UL << 36).Status);
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Walk_reports_translation_faults_by_level_permission_faults_and_external_aborts()
    {
        var rig = S1();
        var arm = (ArmLpaePgtable)rig.Ops;
        Assert.Equal(0, arm.StartLevel);
        Assert.Equal((WalkStatus.TranslationFault, 0), (rig.Ops.Walk(0).Status, rig.Ops.Walk(0).Level));
        Assert.Equal(Errno.OK, rig.Map(G1, 0x8000_0000, K4, IommuProt.Read));
        var inTable = rig.Ops.Walk(G1 + K4);
        Assert.Equal((WalkStatus.TranslationFault, 3), (inTable.Status, inTable.Level));
        Assert.Equal(WalkStatus.Ok, rig.Ops.Walk(G1, IommuPerm.Read).Status);
        Assert.Equal(WalkStatus.PermissionFault, rig.Ops.Walk(G1, IommuPerm.Write).Status);
        var hit = rig.Ops.Walk(G1 + 0x123);
        Assert.Equal((0x8000_0123UL, G1, K4, 3), (hit.Phys, hit.LeafIova, hit.LeafSize, hit.Level));

        rig.Memory.Unback(rig.Ops.RootPhys);                       // as if the pgd had been freed under the walker
        var abort = rig.Ops.Walk(G1);
        Assert.Equal((WalkStatus.ExternalAbort, 0, rig.Ops.RootPhys), (abort.Status, abort.Level, abort.FaultAddress));
    }

    [Fact]
    public void Stage2_write_only_and_read_only_leaves_grant_exactly_that()
    {
        var rig = PageTableRig.Arm(new ArmLpaeConfig(ArmLpaeStage.Stage2, K4, 48, 48));
        Assert.Equal(Errno.OK, rig.Map(0, 0x10_0000, K4, IommuProt.Write));
        Assert.Equal(Errno.OK, rig.Map(K4, 0x20_0000, K4, IommuProt.Read));
        Assert.Equal(WalkStatus.PermissionFault, rig.Ops.Walk(0, IommuPerm.Read).Status);
        Assert.Equal(WalkStatus.Ok, rig.Ops.Walk(0, IommuPerm.Write).Status);
        Assert.Equal(WalkStatus.PermissionFault, rig.Ops.Walk(K4, IommuPerm.Write).Status);
        rig.FreeAndCheckBaseline();
    }

    [Theory]
    [InlineData(4096UL, 40, 1, 2)]     // 4K, 40 bits: level-0 pgd of 2 entries → 2 concatenated level-1 tables
    [InlineData(4096UL, 42, 1, 8)]
    [InlineData(16384UL, 48, 1, 8)]    // 16K, 48 bits: 2 concatenated 16K tables (4 frames each)
    [InlineData(4096UL, 48, 0, 1)]     // 512 entries: no concatenation
    public void Stage2_concatenates_a_small_level_0_pgd(ulong granule, int ias, int startLevel, int pgdFrames)
    {
        var rig = PageTableRig.Arm(new ArmLpaeConfig(ArmLpaeStage.Stage2, granule, ias, 48));
        Assert.Equal(startLevel, ((ArmLpaePgtable)rig.Ops).StartLevel);
        Assert.Equal(pgdFrames, rig.Ops.TableFrames);
        var top = (1UL << ias) - granule;
        Assert.Equal(Errno.OK, rig.Map(top, top, granule));
        Assert.Equal(top + 7, rig.Translate(top + 7));
        rig.FreeAndCheckBaseline();
    }
}
