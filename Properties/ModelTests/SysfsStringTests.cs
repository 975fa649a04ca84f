using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.ModelTests.ModelSession;

namespace IommuConformance.Properties.ModelTests;

/// <summary>b.13: the sysfs type file compares with sysfs_streq: one trailing newline is accepted, nothing else extra.</summary>
public sealed class SysfsStringTests
{
    [Theory]
    [InlineData("identity\n", Errno.OK)]
    [InlineData("DMA\n", Errno.OK)]
    [InlineData("auto\n", Errno.OK)]
    [InlineData("DMA-FQ\n", Errno.OK)]
    [InlineData("identity\n\n", Errno.EINVAL)]
    [InlineData("identity ", Errno.EINVAL)]
    [InlineData("identity\r\n", Errno.EINVAL)]
    [InlineData("\nidentity", Errno.EINVAL)]
    [InlineData("\n", Errno.EINVAL)]
    [InlineData("", Errno.EINVAL)]
    public void Model_compares_like_sysfs_streq(string written, Errno expected) =>
        Of([Smmu()], [new DeviceSpec("dev0", BusNames.Pci, "smmu0", "g0")])
            .Ok(new Probe("dev0"))
            .Expect(new GroupTypeWrite("dev0", written), expected);

    [Fact]
    public void A_trailing_newline_selects_the_type_it_names() =>
        Of([Smmu()], [new DeviceSpec("dev0", BusNames.Pci, "smmu0", "g0")])
            .Ok(new Probe("dev0"))
            .Ok(new GroupTypeWrite("dev0", "identity\n"))
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Identity)
            .Ok(new GroupTypeWrite("dev0", "DMA\n"))
            .Expect(new GroupTypeRead("dev0"), Errno.OK, GroupTypeStrings.Dma);
}
