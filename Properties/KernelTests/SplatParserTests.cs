using IommuConformance.Contract;
using IommuConformance.KernelBackend.Warnings;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>Kernel log records to warning names: known WARN_ONs by function or message, everything else reported, never dropped.</summary>
public class SplatParserTests
{
    private const string Cut = "------------[ cut here ]------------";

    [Fact]
    public void Ordinary_driver_messages_are_no_warnings() =>
        Assert.Empty(SplatParser.Parse(["e1000e 0000:00:01.0 eth0: Intel(R) PRO/1000 Network Connection", "pci 0000:00:01.0: Adding to iommu group 1"]));

    [Fact]
    public void The_6x_form_maps_by_function()
    {
        var log = new[]
        {
            Cut, "WARNING: CPU: 0 PID: 77 at drivers/iommu/iommu.c:3302 iommu_device_unuse_default_domain+0x5e/0x70",
            "Modules linked in: e1000e", "CPU: 0 UID: 0 PID: 77 Comm: agent", "---[ end trace 0000000000000000 ]---",
        };
        Assert.Equal([Warn.UnuseDefaultDomainUnbalanced], SplatParser.Parse(log));
    }

    [Fact]
    public void The_newer_form_maps_by_function() =>
        Assert.Equal([Warn.SetDomainNoFailFailed],
            SplatParser.Parse([Cut, "WARNING: drivers/iommu/iommu.c:2290 at __iommu_group_set_domain_nofail+0x3a/0x50, CPU#0: agent/77"]));

    [Fact]
    public void Late_probe_is_told_by_its_message() =>
        Assert.Equal([Warn.LateProbeAtDriverBind], SplatParser.Parse(
        [
            Cut, "pci 0000:00:03.0: late IOMMU probe at driver bind, something fishy here!",
            "WARNING: CPU: 0 PID: 1 at drivers/iommu/iommu.c:583 __iommu_probe_device+0x1a0/0x4e0",
        ]));

    [Fact]
    public void An_unknown_splat_is_reported_with_its_site()
    {
        var found = SplatParser.Parse([Cut, "WARNING: CPU: 0 PID: 9 at drivers/iommu/intel/iommu.c:100 intel_iommu_attach_device+0x10/0x20"]);
        Assert.Equal(["unknown_kernel_warning(intel_iommu_attach_device at drivers/iommu/intel/iommu.c:100)"], found);
    }

    [Fact]
    public void A_two_site_function_is_not_guessed()
    {
        var found = SplatParser.Parse(["WARNING: CPU: 0 PID: 9 at drivers/iommu/iommu.c:2400 __iommu_group_set_domain_internal+0x1/0x2"]);
        Assert.StartsWith("unknown_kernel_warning(__iommu_group_set_domain_internal", Assert.Single(found));
    }

    [Fact]
    public void Unparsable_warnings_bugs_and_dmar_faults_are_kept()
    {
        var found = SplatParser.Parse(
        [
            "WARNING: something new", "BUG: kernel NULL pointer dereference, address: 0000000000000008",
            "DMAR: [DMA Write NO_PASID] Request device [01:00.0] fault addr 0x1000 [fault reason 0x05] PTE Write access is not set",
        ]);
        Assert.Equal(3, found.Count);
        Assert.Equal("unknown_kernel_warning(something new)", found[0]);
        Assert.StartsWith("kernel_bug(", found[1]);
        Assert.StartsWith("dmar_fault(", found[2]);
    }

    [Fact]
    public void Two_splats_give_two_warnings_in_order() =>
        Assert.Equal([Warn.ReleaseDmaOwnerNotOwned, Warn.ReleaseDeviceGroupInUse], SplatParser.Parse(
        [
            Cut, "WARNING: CPU: 0 PID: 1 at drivers/iommu/iommu.c:1 __iommu_release_dma_ownership+0x1/0x2",
            Cut, "WARNING: CPU: 0 PID: 1 at drivers/iommu/iommu.c:2 __iommu_group_free_device+0x1/0x2",
        ]));

    [Theory]
    [InlineData("watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [agent:1]", true)]
    [InlineData("rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", true)]
    [InlineData("e1000e 0000:00:01.0 eth0: NIC Link is Up", false)]
    public void Stalls_are_told_apart(string line, bool stall) => Assert.Equal(stall, SplatParser.IsStall(line));
}
