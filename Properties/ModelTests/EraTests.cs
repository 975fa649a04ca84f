using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.ModelTests.ModelSession;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// The model's era option (docs/real-kernel.md "Era"): the sysfs type write of Linux 6.1 (iommu_group_store_type and
/// iommu_change_dev_def_domain) beside the contract's 7.0 one, each pinned on the same steps.
/// </summary>
public sealed class EraTests
{
    private static readonly DeviceSpec Alone = new("dev0", BusNames.Pci, "smmu0", "g0");
    private static readonly DeviceSpec[] Pair = [new("dev1", BusNames.Pci, "smmu0", "g1"), new("dev2", BusNames.Pci, "smmu0", "g1")];

    private static ModelSession In(KernelEra era, params DeviceSpec[] devices) =>
        new(new SystemConfig(1, DefaultDomainType.Dma, era), new Topology([Smmu()], [.. devices]));

    [Theory]
    [InlineData(KernelEra.V7_0, "identity", Errno.EPERM)]
    [InlineData(KernelEra.V6_1, "identity", Errno.EBUSY)]
    [InlineData(KernelEra.V7_0, "DMA", Errno.EPERM)]
    [InlineData(KernelEra.V6_1, "DMA", Errno.EBUSY)]
    [InlineData(KernelEra.V7_0, "DMA-FQ", Errno.OK)]
    [InlineData(KernelEra.V6_1, "DMA-FQ", Errno.OK)]
    public void A_bound_driver_refuses_a_type_write_by_era(KernelEra era, string type, Errno expected) =>
        In(era, Alone).Ok(new Probe("dev0")).Ok(new DriverBind("dev0")).Expect(new GroupTypeWrite("dev0", type), expected);

    [Theory]
    [InlineData(KernelEra.V7_0, "identity", Errno.OK)]
    [InlineData(KernelEra.V6_1, "identity", Errno.EINVAL)]
    [InlineData(KernelEra.V7_0, "DMA-FQ", Errno.OK)]
    [InlineData(KernelEra.V6_1, "DMA-FQ", Errno.EINVAL)]
    [InlineData(KernelEra.V6_1, "bogus", Errno.EINVAL)]
    public void A_multi_device_group_refuses_every_type_write_on_6_1(KernelEra era, string type, Errno expected) =>
        In(era, Pair).Ok(new BusProbe(BusNames.Pci)).Expect(new GroupTypeWrite("dev1", type), expected);

    [Fact]
    public void On_6_1_a_group_that_lost_its_second_member_accepts_type_writes_again() =>
        In(KernelEra.V6_1, Pair).Ok(new BusProbe(BusNames.Pci)).Ok(new Release("dev2"))
            .Ok(new GroupTypeWrite("dev1", "identity"))
            .Expect(new GroupTypeRead("dev1"), Errno.OK, GroupTypeStrings.Identity);

    [Theory]
    [InlineData(KernelEra.V7_0, "identity", Errno.EPERM)]
    [InlineData(KernelEra.V6_1, "identity", Errno.EBUSY)]
    [InlineData(KernelEra.V7_0, "DMA-FQ", Errno.OK)]
    [InlineData(KernelEra.V6_1, "DMA-FQ", Errno.EBUSY)] // bound passes (the flip), then "Group not assigned to default domain"
    public void A_group_held_through_vfio_refuses_a_type_write_by_era(KernelEra era, string type, Errno expected) =>
        In(era, Alone).Ok(new Probe("dev0")).Ok(new ClaimGroupDmaOwner("dev0", "o1")).Expect(new GroupTypeWrite("dev0", type), expected);

    [Fact]
    public void On_6_1_a_failed_type_write_changes_nothing_and_a_free_group_switches() =>
        In(KernelEra.V6_1, Alone).Ok(new Probe("dev0")).Ok(new DriverBind("dev0"))
            .Expect(new GroupTypeWrite("dev0", "identity"), Errno.EBUSY)
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Dma)
            .Ok(new DriverUnbind("dev0"))
            .Ok(new GroupTypeWrite("dev0", "identity\n"))
            .Ok(new GroupTypeWrite("dev0", "identity"))
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Identity)
            .Ok(new GroupTypeWrite("dev0", "auto"))
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Dma);

    [Fact]
    public void The_eras_agree_where_6_1_did_not_differ()
    {
        foreach (var era in new[] { KernelEra.V7_0, KernelEra.V6_1 })
            In(era, Alone).Ok(new Probe("dev0"))
                .Expect(new GroupTypeWrite("dev0", "DMA\n\n"), Errno.EINVAL)
                .Ok(new DriverBind("dev0"))
                .Expect(new ClaimGroupDmaOwner("dev0", "o1"), Errno.EPERM);
    }

    [Theory]
    [InlineData("6.1.0-50-amd64", KernelEra.V6_1)]
    [InlineData("7.2.13+deb14-amd64", KernelEra.V7_0)]
    [InlineData("7.0.13", KernelEra.V7_0)]
    public void A_kernel_release_names_its_era(string release, KernelEra era) => Assert.Equal(era, KernelEras.OfRelease(release));

    [Theory]
    [InlineData("6.12.1")]
    [InlineData("5.15.0")]
    public void Other_releases_have_no_era(string release) => Assert.Null(KernelEras.OfRelease(release));
}
