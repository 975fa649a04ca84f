using IommuConformance.Contract;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware.Smmuv3;
using IommuConformance.Implementations.Hardware.Vtd;
using Xunit;
using static IommuConformance.Properties.Scenarios.Sizes;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S15 (QEMU iommu-testdev qtests, hardware-and-peers.md §1.5): the DMA test device end to end, for the shapes this
/// implementation has: bypass / identity (smmuv3 STE bypass, vtd pass-through context entry), smmuv3 stage 1, vtd
/// second level. Each: DMA of 4 bytes at an IOVA → the expected PA. Negatives: len 0 → EINVAL (the testdev's
/// BAD_LEN), an unmapped IOVA → EIO with <c>translation</c> (TX_FAIL) and a fault record in that hardware's own
/// format (smmuv3: an F_TRANSLATION event with the stream id, RnW and the IOVA; vtd: a fault record with the source
/// id, fault reason 06h for a read and the page address). Adaptations: the contract's <c>device_dma</c> has no
/// arm / trigger / expected-PA registers, so NOT_ARMED and MISMATCH have no counterpart (the expected PA is the
/// trace's expect); the nested and scalable-mode shapes do not exist in this emulation.
/// </summary>
public class S15_EndToEndTranslation
{
    public static TheoryData<string> Drivers => [DriverNames.Smmuv3, DriverNames.Vtd];

    private const ulong Iova = 0x10_0000, Pa = 0x8765_4000, Unmapped = 0x20_0000;

    public static ScenarioTrace Translated(ScenarioDriver driver) =>
        new ScenarioTrace("S15 testdev: translated DMA", driver)
            .Map(Iova, Pa, K4).Dma(Iova + 0x10, Pa + 0x10).Dma(Iova + 0xFFC, Pa + 0xFFC, write: true)
            .Do(new DeviceDma(ScenarioTrace.Dev, Iova, 0, false), Errno.EINVAL)
            .DmaFaults(Unmapped + 0x24);

    public static Trace Identity(ScenarioDriver driver) => new("S15 testdev: identity (bypass / pass-through)", [], SystemConfig.Default,
        new Topology([driver.Iommu], [new DeviceSpec(ScenarioTrace.Dev, BusNames.Pci, driver.Iommu.Name, "g0")]),
        [
            new(new Probe(ScenarioTrace.Dev), new Expect(Errno.OK)),
            new(new GroupTypeWrite(ScenarioTrace.Dev, "identity"), new Expect(Errno.OK)),
            new(new DeviceDma(ScenarioTrace.Dev, 0x1234_5670, 4, true), new Expect(Errno.OK, DmaValues.Phys(0x1234_5670))),
            new(new DeviceDma(ScenarioTrace.Dev, 0x1234_5670, 0, true), new Expect(Errno.EINVAL)),
        ]);

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Identity_through_the_executor(string driver) => ScenarioRun.ThroughExecutor(Identity(ScenarioDriver.Of(driver)));

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Translated_through_the_executor(string driver) => ScenarioRun.ThroughExecutor(Translated(ScenarioDriver.Of(driver)).ToTrace());

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Identity_reaches_the_bus_address_with_no_fault_record(string driver)
    {
        var result = ScenarioRun.Lockstep(Identity(ScenarioDriver.Of(driver)));
        Assert.Empty(FaultRecords(result.System, ScenarioDriver.Of(driver)));
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void An_unmapped_iova_leaves_its_fault_record(string driver)
    {
        var d = ScenarioDriver.Of(driver);
        var result = ScenarioRun.Lockstep(Translated(d));
        var records = FaultRecords(result.System, d);
        var (iova, source, read, reason) = Assert.Single(records);
        Assert.Equal(d == ScenarioDriver.Vtd ? Unmapped : Unmapped + 0x24, iova);   // VT-d records the page address (FI [63:12])
        Assert.Equal(0, source);
        Assert.True(read);
        Assert.Equal(d == ScenarioDriver.Vtd ? VtdFaultReason.Read : Smmuv3Event.Translation, reason);
    }

    /// <summary>The fault records the hardware holds, read from its own structures: (address, requester id, read?, reason).</summary>
    public static List<(ulong Iova, int Source, bool Read, byte Reason)> FaultRecords(IommuSystem system, ScenarioDriver d)
    {
        var records = new List<(ulong, int, bool, byte)>();
        switch (system.HardwareOf(d.Iommu.Name))
        {
            case Smmuv3Hardware smmu:
                var evtq = smmu.ReadReg(Smmuv3Regs.EvtqBase) & Smmuv3Regs.QBaseAddrMask;
                var prod = (uint)smmu.ReadReg(Smmuv3Regs.EvtqProd) & ~Smmuv3Regs.QOverflow;
                for (var i = (uint)smmu.ReadReg(Smmuv3Regs.EvtqCons); i != prod; i++)
                {
                    var at = evtq + i * (ulong)Smmuv3Event.Bytes;
                    var w0 = smmu.Memory.Read(at);
                    records.Add((smmu.Memory.Read(at + 16), (int)(w0 >> 32), (smmu.Memory.Read(at + 8) & Smmuv3Event.RnW) != 0, (byte)w0));
                }
                break;
            case VtdHardware vtd:
                for (var i = 0; i < VtdHardware.FaultRecords; i++)
                {
                    var hi = vtd.ReadReg(VtdRegs.Frcd + 16 * i + 8);
                    if ((hi & VtdRegs.FrcdF) != 0)
                        records.Add((vtd.ReadReg(VtdRegs.Frcd + 16 * i), (int)(hi & 0xFFFF), (hi & VtdRegs.FrcdRead) != 0, (byte)(hi >> 32)));
                }
                break;
        }
        return records;
    }
}
