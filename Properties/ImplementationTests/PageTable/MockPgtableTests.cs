using IommuConformance.Contract;
using IommuConformance.Implementations.PageTable;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.PageTables;

/// <summary>The iommufd selftest mock domain's assertions (selftest.c, mock_domain_map_pages / unmap_pages / free).</summary>
public class MockPgtableTests
{
    private const ulong P = MockPgtable.MockIoPageSize, Base = MockPgtable.ApertureStart;

    [Fact]
    public void Unmaps_that_cover_whole_maps_raise_nothing()
    {
        var rig = PageTableRig.Mock();
        Assert.Equal(Errno.OK, rig.Map(Base, 0x10_0000, 3 * P));
        Assert.Equal(Errno.OK, rig.Map(Base + 3 * P, 0x20_0000, P));
        Assert.Equal(0x10_0000UL + P + 9, rig.Translate(Base + P + 9));
        Assert.Equal(4 * P, rig.Unmap(Base, 4 * P));                  // two whole maps aggregated
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void An_unmap_that_splits_a_map_warns_at_both_ends()
    {
        var rig = PageTableRig.Mock();
        Assert.Equal(Errno.OK, rig.Map(Base, 0x10_0000, 4 * P));
        Assert.Equal(P, rig.Unmap(Base + P, P));
        Assert.Equal([PgtableWarning.MockUnmapNotStart, PgtableWarning.MockUnmapNotLast], rig.Warnings());
        Assert.Equal(0UL, rig.Ops.IovaToPhys(Base + P));
        Assert.Equal([PgtableWarning.MockIovaToPhysUnmapped], rig.Warnings());
        rig.Ops.Free();
        Assert.Equal([PgtableWarning.MockFreeNotEmpty], rig.Warnings());
        rig.Sync();
        Assert.Equal(rig.Baseline, rig.Allocator.LiveFrames);
    }

    [Fact]
    public void Overmap_warns_and_overwrites_and_an_unmap_of_a_hole_still_answers_its_size()
    {
        var rig = PageTableRig.Mock();
        Assert.Equal(Errno.OK, rig.Map(Base, 0x10_0000, 2 * P));
        Assert.Equal(Errno.OK, rig.Map(Base + P, 0x30_0000, 2 * P));
        Assert.Equal([PgtableWarning.MockMapOverwrite], rig.Warnings());
        Assert.Equal(0x30_0000UL, rig.Translate(Base + P));
        Assert.Equal(4 * P, rig.Unmap(Base + 8 * P, 4 * P));
        Assert.Equal([PgtableWarning.MockUnmapEmpty, PgtableWarning.MockUnmapNotStart, PgtableWarning.MockUnmapNotLast], rig.Warnings());
        Assert.Equal(3 * P, rig.Unmap(Base, 3 * P));   // the first map's LAST page was overwritten: START and LAST still hold
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }

    [Fact]
    public void Pages_are_2KiB_and_maps_outside_the_aperture_are_refused()
    {
        var rig = PageTableRig.Mock();
        Assert.Equal(P, rig.Ops.PgsizeBitmap);
        Assert.Equal(Errno.EINVAL, rig.Map(Base + P / 2, 0, P));
        Assert.Equal(Errno.ERANGE, rig.Map(Base - P, 0x1000, P));
        Assert.Equal(Errno.ERANGE, rig.Map(MockPgtable.ApertureLast + 1 - P, 0x1000, 2 * P));
        Assert.Equal(Errno.OK, rig.Map(MockPgtable.ApertureLast + 1 - P, 0x1000, P));
        Assert.Equal(P, rig.Unmap(MockPgtable.ApertureLast + 1 - P, P));
        Assert.Empty(rig.Warnings());
        rig.FreeAndCheckBaseline();
    }
}
