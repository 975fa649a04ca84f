using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>iommu_group_store_type() matches its strings with sysfs_streq().</summary>
public class SysfsStringTests
{
    [Theory]
    [InlineData("identity\n", Errno.OK, "identity")]
    [InlineData("DMA\n", Errno.OK, "DMA")]
    [InlineData("DMA-FQ\n", Errno.OK, "DMA-FQ")]
    [InlineData("auto\n", Errno.OK, "DMA-FQ")]
    [InlineData("DMA\n\n", Errno.EINVAL, "DMA-FQ")]
    [InlineData("DMA ", Errno.EINVAL, "DMA-FQ")]
    [InlineData("DM", Errno.EINVAL, "DMA-FQ")]
    [InlineData("\n", Errno.EINVAL, "DMA-FQ")]
    [InlineData("identity\0junk", Errno.OK, "identity")]
    public void Writes_compare_like_sysfs_streq(string written, Errno expected, string type)
    {
        var outcomes = Create([Smmu0], [Pci("dev0")]).Run(
            new Probe("dev0"), new GroupTypeWrite("dev0", written), new GroupTypeRead("dev0"));
        Assert.Equal(Outcome.Of(expected), outcomes[1]);
        Assert.Equal(Outcome.OkWith(type), outcomes[2]);
    }
}
