using IommuConformance.Implementations.Iova;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.IovaAllocator.IovaTreeTests;

namespace IommuConformance.Properties.ImplementationTests.IovaAllocator;

/// <summary>reserve_iova: new ranges, containment, stretching overlapped nodes, the remainder node, bad pfns.</summary>
public class IovaReserveTests
{
    [Fact]
    public void A_reservation_is_a_node_that_allocation_never_hands_out()
    {
        var d = Domain();
        var r = d.ReserveIova(0xFFF00, 0xFFFFF)!;
        Assert.Equal((0xFFF00UL, 0xFFFFFUL), (r.PfnLo, r.PfnHi));
        Assert.Equal(0xFFEFFUL, d.AllocIova(1, Lim32, true)!.PfnLo);
        Assert.Same(r, d.FindIova(0xFFF80));
    }

    [Fact]
    public void A_request_inside_an_existing_node_returns_that_node_and_allocates_nothing()
    {
        var d = Domain();
        var r = d.ReserveIova(0x100, 0x1FF)!;
        Assert.Same(r, d.ReserveIova(0x150, 0x160));
        Assert.Equal(1, d.LiveIovaMem);
        Assert.Equal([(0x100UL, 0x1FFUL)], d.Nodes());
    }

    [Fact]
    public void An_overlap_below_stretches_the_node_down_and_an_overlap_above_adds_a_node_for_the_rest()
    {
        var d = Domain();
        var r = d.ReserveIova(0x100, 0x1FF)!;
        Assert.Same(r, d.ReserveIova(0x80, 0x120));                       // stretched down, nothing new
        Assert.Equal([(0x80UL, 0x1FFUL)], d.Nodes());
        var rest = d.ReserveIova(0x180, 0x2FF)!;                           // the part above 0x1FF is a new node
        Assert.Equal((0x200UL, 0x2FFUL), (rest.PfnLo, rest.PfnHi));
        Assert.Equal([(0x80UL, 0x1FFUL), (0x200UL, 0x2FFUL)], d.Nodes());
    }

    [Fact]
    public void A_request_across_several_nodes_fills_each_gap_into_the_node_above_it()
    {
        var d = Domain();
        d.ReserveIova(0x10, 0x1F);
        d.ReserveIova(0x30, 0x3F);
        var top = d.ReserveIova(0x0, 0x4F)!;
        Assert.Equal((0x40UL, 0x4FUL), (top.PfnLo, top.PfnHi));
        Assert.Equal([(0x0UL, 0x1FUL), (0x20UL, 0x3FUL), (0x40UL, 0x4FUL)], d.Nodes());
        Assert.Equal(3, d.LiveIovaMem);
    }

    [Fact]
    public void Reserving_over_an_allocation_stretches_the_allocated_node_so_freeing_it_drops_the_reservation()
    {
        // reserve_iova() does not tell reserved nodes from allocated ones: the kernel's behaviour, pinned here.
        var d = Domain();
        var a = d.AllocIova(1, Lim32, true)!;                              // FFFFF
        Assert.Same(a, d.ReserveIova(0xFFFF0, 0xFFFFF));
        Assert.Equal((0xFFFF0UL, 0xFFFFFUL), (a.PfnLo, a.PfnHi));
        d.FreeIova(0xFFFFF);
        Assert.Empty(d.Nodes());
    }

    [Fact]
    public void Pfns_past_dma_addr_t_after_the_shift_are_WARNed_and_refused()
    {
        var d = Domain();
        Assert.Null(d.ReserveIova(0, 1UL << 52));                          // ULLONG_MAX >> 12 is 2^52 - 1
        Assert.Equal([IovaWarning.ReserveNonsensicalPfns], d.Warnings.All);
        Assert.NotNull(d.ReserveIova((1UL << 52) - 2, (1UL << 52) - 1));
    }

    [Fact]
    public void A_reversed_range_colliding_with_a_node_start_hits_the_insert_WARN_as_the_kernel_does()
    {
        // reserve_iova() does not check pfn_lo <= pfn_hi; [0x10, 0xF] overlaps nothing and its pfn_lo collides.
        var d = Domain();
        d.ReserveIova(0x10, 0x1F);
        var stray = d.ReserveIova(0x10, 0xF)!;
        Assert.Equal([IovaWarning.InsertDuplicate], d.Warnings.All);
        Assert.Equal([(0x10UL, 0x1FUL)], d.Nodes());                       // not in the tree, yet returned
        Assert.Equal((0x10UL, 0xFUL), (stray.PfnLo, stray.PfnHi));
    }
}
