using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>
/// iommu_setup_dma_ops() is given the group's default domain (kernel-semantics b.2 step 9). In this slice every
/// default domain is DMA-initialised when it is set up, while it is also group->domain, so no trace tells the two
/// pointers apart yet; these pin the answers on the paths where they differ (hot-add into a user-owned group).
/// </summary>
public class DmaOpsTests
{
    private static readonly IommuSpec NoFq = Smmu0 with { Options = new IommuOptions(DeferredFlush: false) };

    [Fact]
    public void Hot_add_into_a_group_on_a_user_domain_keeps_the_downgraded_default()
    {
        var outcomes = Create([NoFq], [Pci("devA"), Pci("devB")]).Run(
            new Probe("devA"), new ClaimGroupDmaOwner("devA", "o1"), new DomainAllocPaging("devA", "u"),
            new AttachGroup("u", "devA"), new Probe("devB"), new GetDomain("devB"), new GroupTypeRead("devB"),
            new ReleaseGroupDmaOwner("devA"), new GroupTypeRead("devA"));
        Assert.Equal([Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.OkWith("u"),
            Outcome.OkWith("DMA"), Outcome.Ok, Outcome.OkWith("DMA")], outcomes);
    }

    [Fact]
    public void A_same_type_sysfs_write_on_a_user_domain_leaves_the_default_alone()
    {
        // owner_cnt 0 with a user domain (a driver_managed_dma attach): "DMA" again is a no-op setup, then the DMA
        // ops are set up again for the default domain, which is already initialised.
        var outcomes = Create([NoFq], [Pci("dev0")]).Run(
            new Probe("dev0"), new DomainAllocPaging("dev0", "u"), new AttachDevice("u", "dev0"),
            new GroupTypeWrite("dev0", "DMA"), new GetDomain("dev0"), new GroupTypeRead("dev0"));
        Assert.Equal([Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.Ok, Outcome.OkWith("u"), Outcome.OkWith("DMA")], outcomes);
    }
}
