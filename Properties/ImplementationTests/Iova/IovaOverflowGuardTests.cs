using IommuConformance.Implementations.Iova;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.IovaAllocator;

/// <summary>
/// dcdb3ba7e2a8 ("iommu/iova: Fix alloc iova overflows issue") and the seeded bug that undoes it
/// (<see cref="IovaDomain.NoOverflowGuard"/>, alloc_iova_no_overflow_guard): a request larger than the space below its
/// limit, with the cached node on the anchor.
/// </summary>
public class IovaOverflowGuardTests
{
    [Fact]
    public void A_request_larger_than_the_space_below_the_limit_fails()
    {
        var d = new IovaDomain(4096, 1);
        Assert.Null(d.AllocIova(0x1000, 0xfff, sizeAligned: true));   // the 24-bit space is pfns 1..0xfff
        Assert.Empty(d.Nodes());
        Assert.NotNull(d.AllocIova(1, 0xfff, sizeAligned: true));
    }

    [Fact]
    public void Without_the_fix_the_wrapped_retry_allocates_below_start_pfn_and_the_next_request_wraps_the_other_way()
    {
        var d = new IovaDomain(4096, 1) { NoOverflowGuard = true };
        // retry_pfn = anchor.pfn_hi + 1 wraps to 0: the retry searches down to pfn 0 and finds [0, 0xfff]
        Assert.Equal((0UL, 0xfffUL), d.AllocIova(0x1000, 0xfff, sizeAligned: true) is { } n ? (n.PfnLo, n.PfnHi) : default);
        // then high_pfn (0) < size (1): without the guard new_pfn wraps to IOVA_ANCHOR, whose insert WARNs
        Assert.Equal(IovaDomain.IovaAnchor, d.AllocIova(1, 0xfff, sizeAligned: true)?.PfnLo);
        Assert.Contains(IovaWarning.InsertDuplicate, d.Warnings.All);
    }

    [Fact]
    public void Without_the_guard_a_request_larger_than_the_gap_below_the_lowest_node_lands_beyond_the_limit()
    {
        var d = new IovaDomain(4096, 1) { NoOverflowGuard = true };
        Assert.NotNull(d.AllocIova(0x800, 0xfff, sizeAligned: true));   // [0x800, 0xfff]
        var wrapped = d.AllocIova(0xfff, 0xfff, sizeAligned: true);
        Assert.NotNull(wrapped);
        // high_pfn 0x800 - size 0xfff wraps: the "gap" is just below the anchor, far above the limit
        Assert.Equal((0xffff_ffff_ffff_f000UL, 0xffff_ffff_ffff_fffeUL), (wrapped!.PfnLo, wrapped.PfnHi));
    }
}
