using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.KernelBackend;
using IommuConformance.KernelBackend.Machine;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.KernelTests;

/// <summary>The kernel's one unnamed answer, a VT-d DMA fault, is admitted only where the model faults for translation or permission.</summary>
public class KernelJudgeTests
{
    private static KernelJudge Attached(out ModelJudge model)
    {
        model = new ModelJudge(ModelState.Initial(KernelMachine.Config, KernelMachine.Fixed.Topology));
        var judge = new KernelJudge(model);
        foreach (var op in new Operation[]
        {
            new BusProbe(BusNames.Pci), new ClaimGroupDmaOwner("dev2", "o1"), new DomainAllocPaging("dev2", "d1"),
            new AttachGroup("d1", "dev2"), new Map("d1", 0x10000, 0x100000, 0x1000, "rw"), new Map("d1", 0x20000, 0x200000, 0x1000, "r"),
        })
            Assert.True(judge.Judge(op, model.State.Step(op).Outcome).Allowed, op.ToString());
        return judge;
    }

    private static readonly Outcome VtdFault = new(Errno.EIO, KernelJudge.VtdFault, []);

    [Fact]
    public void A_vtd_fault_stands_for_translation_and_permission_only()
    {
        var judge = Attached(out var model);
        var unmapped = judge.Judge(new DeviceDma("dev2", 0x30000, 8, true), VtdFault);
        Assert.True(unmapped.Allowed);
        Assert.Equal(DmaValues.Fault(DmaFaults.Translation), unmapped.Expected.Value);
        Assert.True(judge.Judge(new DeviceDma("dev2", 0x20000, 8, true), VtdFault).Allowed); // permission
        // Where the model lets the DMA through, a fault is a disagreement; so is an OK where the model faults.
        Assert.False(judge.Judge(new DeviceDma("dev2", 0x10000, 8, true), VtdFault).Allowed);
        Assert.False(judge.Judge(new DeviceDma("dev2", 0x30000, 8, true), new Outcome(Errno.OK, DmaValues.Phys(0x30000), [])).Allowed);
        // The fault with a warning beside it, or on another operation, is the model's own judgement (not admitted).
        Assert.False(judge.Judge(new DeviceDma("dev2", 0x30000, 8, true), VtdFault with { Warnings = ["x"] }).Allowed);
        Assert.False(judge.Judge(new Unmap("d1", 0x10000, 0x1000), VtdFault).Allowed);
    }

    [Fact]
    public void A_vtd_fault_is_not_a_blocked_domain()
    {
        var model = new ModelJudge(ModelState.Initial(KernelMachine.Config, KernelMachine.Fixed.Topology));
        var judge = new KernelJudge(model);
        foreach (var op in new Operation[] { new BusProbe(BusNames.Pci), new ClaimGroupDmaOwner("dev2", "o1") })
            judge.Judge(op, model.State.Step(op).Outcome);
        Assert.Equal(DmaValues.Fault(DmaFaults.Blocked), model.State.Step(new DeviceDma("dev2", 0, 8, true)).Outcome.Value);
        Assert.False(judge.Judge(new DeviceDma("dev2", 0, 8, true), VtdFault).Allowed);
    }
}
