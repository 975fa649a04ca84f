using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Virtio;
using IommuConformance.Implementations.PageTable;
using IommuConformance.Properties.ImplementationTests.HardwareTests;
using Xunit;
using S = IommuConformance.Implementations.PageTable.VirtioIommuStatus;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S1 (hardware-and-peers.md §6; QEMU qtest virtio-iommu-test.c attach_detach): ATTACH / DETACH through the emulated
/// device's request queue, with its config at boot and the device-side DMA checks after each step.
/// </summary>
public class S1_VirtioAttachDetach
{
    [Fact]
    public void Config_at_boot_input_range_domain_range_and_bypass()
    {
        var rig = new VirtioRig();
        Assert.Equal(0UL, rig.Hw.ReadReg(ViommuRegs.InputStart));
        Assert.True(rig.Hw.ReadReg(ViommuRegs.InputEnd) >= uint.MaxValue);
        Assert.Equal(0UL, rig.Hw.ReadReg(ViommuRegs.DomainStart));
        Assert.Equal((ulong)uint.MaxValue, rig.Hw.ReadReg(ViommuRegs.DomainEnd));
        Assert.Equal(1UL, rig.Hw.ReadReg(ViommuRegs.BypassCfg));
        Assert.Equal(VirtioIommuHardware.PageSizeMask, rig.Hw.ReadReg(ViommuRegs.PageSizeMask));
        // bypass at boot: an endpoint never attached reaches memory 1:1
        Assert.Equal(DmaTranslation.Ok(0x1234, ulong.MaxValue), rig.Dma(0, 0x1234));
    }

    [Fact]
    public void Attach_detach_sequence()
    {
        var rig = new VirtioRig();
        Assert.Equal(S.Ok, rig.Attach(0, 0));                       // 1
        Assert.Equal(S.NoEnt, rig.Attach(0, 444));                  // 2: no such endpoint
        Assert.Equal(S.NoEnt, rig.Detach(0, 1));                    // 3: never attached
        Assert.Equal(S.Ok, rig.Attach(1, 0));                       // 4: moves ep 0; domain 0 goes
        Assert.Equal([1u], rig.Hw.DomainMappingCounts.Keys);
        Assert.Equal(S.Inval, rig.Detach(0, 0));                    // 5: wrong domain
        Assert.Equal(S.Ok, rig.Detach(1, 0));                       // 6
        Assert.Empty(rig.Hw.DomainMappingCounts);
        Assert.Equal(S.Ok, rig.Attach(1, 0));                       // 7
        Assert.Equal(S.Ok, rig.Map(1, 0x0, 0xFFF, 0xa1000));
        Assert.Equal(S.Ok, rig.Map(1, 0x2000, 0x2FFF, 0xb1000));
        Assert.Equal(DmaTranslation.Ok(0xa1010, 0xFFF), rig.Dma(0, 0x10));
        Assert.Equal(DmaTranslation.Ok(0xb1ff0, 0x2FFF), rig.Dma(0, 0x2ff0));
        Assert.Equal(S.Ok, rig.Detach(1, 0));
        // the now empty domain went with its mappings: a later MAP has no domain to go to
        Assert.Empty(rig.Hw.DomainMappingCounts);
        Assert.Equal(S.NoEnt, rig.Map(1, 0x0, 0xFFF, 0xa1000));
        // detached with bypass on: the endpoint bypasses again
        Assert.Equal(DmaTranslation.Ok(0x2ff0, ulong.MaxValue), rig.Dma(0, 0x2ff0));
    }

    [Fact]
    public void Detached_endpoint_faults_once_the_driver_clears_bypass()
    {
        var rig = new VirtioRig();
        Assert.Equal(S.Ok, rig.Attach(1, 0));
        Assert.Equal(S.Ok, rig.Detach(1, 0));
        rig.Hw.WriteReg(ViommuRegs.BypassCfg, 0);
        Assert.Equal(DmaTranslation.Faulted(DmaFault.Blocked), rig.Dma(0, 0x10));
        Assert.Equal(DmaTranslation.Faulted(DmaFault.Blocked), rig.Dma(1, 0x10));   // never attached: UNKNOWN
        var faults = rig.Faults();
        Assert.Equal([(ViommuFault.Domain, ViommuFault.FAddress, 0u, 0x10UL), (ViommuFault.Unknown, ViommuFault.FAddress, 1u, 0x10UL)], faults);
    }

    [Fact]
    public void Attach_with_another_bypass_flag_is_refused_and_moves_nothing()
    {
        var rig = new VirtioRig();
        Assert.Equal(S.Ok, rig.Attach(5, 0));
        Assert.Equal(S.Ok, rig.Map(5, 0, 0xFFF, 0xa1000));
        Assert.Equal(S.Inval, rig.Attach(5, 1, ViommuReq.AttachFBypass));
        Assert.Equal(S.Inval, rig.Attach(0, 0, 2));                 // unknown flag
        Assert.Equal(S.Ok, rig.Attach(6, 1, ViommuReq.AttachFBypass));
        Assert.Equal(S.Inval, rig.Map(6, 0, 0xFFF, 0xa1000));      // bypass domain
        Assert.Equal(S.Inval, rig.Unmap(6, 0, 0xFFF));
        Assert.Equal(DmaTranslation.Ok(0xa1004, 0xFFF), rig.Dma(0, 0x4));
        Assert.Equal(DmaTranslation.Ok(0x4, ulong.MaxValue), rig.Dma(1, 0x4));
    }
}
