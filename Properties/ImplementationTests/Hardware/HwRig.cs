using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware.Smmuv3;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>Machines for the hardware tests, and a test-side command writer that plays the driver at the queue.</summary>
internal static class HwRig
{
    public const ulong Iova = 0x100_0000, Phys = 0x4000_0000;

    /// <summary>One instance, dev0 probed and attached to a fresh paging domain d1 (returned).</summary>
    public static (IommuSystem System, PagingDomain Domain) Attached(IommuSpec iommu, DeviceSpec dev, string[]? bugs = null)
    {
        var system = Create([iommu], [dev, dev with { Name = "spare", Group = "g9" }], bugs);
        Assert.All(system.Run(new Probe(dev.Name), new DomainAllocPaging(dev.Name, "d1"), new AttachDevice("d1", dev.Name)),
            o => Assert.Equal(Errno.OK, o.Errno));
        return (system, Assert.IsAssignableFrom<PagingDomain>(system.DomainOfHandle("d1")));
    }

    public static Smmuv3Hardware Smmu(this IommuSystem system) => Assert.IsType<Smmuv3Hardware>(system.HardwareOf("smmu0"));

    /// <summary>Writes one command at PROD and publishes it, as a driver would.</summary>
    public static void Issue(this Smmuv3Hardware hw, (ulong W0, ulong W1) cmd)
    {
        var qbase = hw.ReadReg(Smmuv3Regs.CmdqBase);
        var log2 = (int)(qbase & 0x1F);
        var prod = (uint)hw.ReadReg(Smmuv3Regs.CmdqProd);
        var slot = (qbase & Smmuv3Regs.QBaseAddrMask) + (prod & ((1u << log2) - 1)) * 16UL;
        hw.Memory.Write(slot, cmd.W0);
        hw.Memory.Write(slot + 8, cmd.W1);
        hw.WriteReg(Smmuv3Regs.CmdqProd, (prod + 1) & ((1u << (log2 + 1)) - 1));
    }

    public static ulong SteWord(this Smmuv3Hardware hw, int sid) =>
        hw.Memory.Read((hw.ReadReg(Smmuv3Regs.StrtabBase) & Smmuv3Ste.S1CtxPtrMask) + (ulong)sid * Smmuv3Ste.Bytes);
}
