using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Model;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>
/// Bad input to the PASID and SVA operations gets the kernel's errno or the hardware's fault on both sides, never an
/// exception: unknown or dead mm and bond names, unbind twice, bind after mm_exit, PASIDs out of range, a device
/// without PASIDs, a DMA with a PASID on a device without PASID support.
/// </summary>
public class PasidBadInputTests
{
    private static readonly Topology Machine = new(
        [new IommuSpec("smmu0", DriverNames.Smmuv3, IommuOptions.None), new IommuSpec("virtio0", DriverNames.Virtio, IommuOptions.None)],
        [
            new DeviceSpec("dev0", BusNames.Pci, "smmu0", "g0", MaxPasids: 16),
            new DeviceSpec("narrow", BusNames.Pci, "smmu0", "g1"),
            new DeviceSpec("vdev", BusNames.Pci, "virtio0", "g0", MaxPasids: 16),
        ]);

    public static TheoryData<string, Errno> Cases() => new()
    {
        { "unknown mm", Errno.ENOENT },
        { "unbind twice", Errno.ENOENT },
        { "bind after mm_exit", Errno.ENOENT },
        { "mm_exit twice", Errno.ENOENT },
        { "get_pasid of a dead handle", Errno.ENOENT },
        { "PASID 0", Errno.EINVAL },
        { "PASID past the width", Errno.EINVAL },
        { "bind on a device without PASIDs", Errno.ENOSPC },
        { "mm's PASID too wide for the device", Errno.EOVERFLOW },
        { "bind on an unprobed device", Errno.ENODEV },
        { "virtio has no set_dev_pasid", Errno.EOPNOTSUPP },
        { "DMA with a PASID on a device without PASIDs", Errno.EIO },
    };

    private static Operation[] Steps(string name) => name switch
    {
        "unknown mm" => [new MmNew("mm1"), new MmExit("mm1"), new SvaBind("dev0", "mm1", "h1")],
        "unbind twice" => [new MmNew("mm1"), new SvaBind("dev0", "mm1", "h1"), new SvaUnbind("h1"), new SvaUnbind("h1")],
        "bind after mm_exit" => [new MmNew("mm1"), new SvaBind("dev0", "mm1", "h1"), new MmExit("mm1"), new SvaBind("dev0", "mm1", "h2")],
        "mm_exit twice" => [new MmNew("mm1"), new MmExit("mm1"), new MmExit("mm1")],
        "get_pasid of a dead handle" => [new MmNew("mm1"), new SvaBind("dev0", "mm1", "h1"), new SvaUnbind("h1"), new SvaGetPasid("h1")],
        "PASID 0" => [new DomainAllocPaging("dev0", "d1"), new AttachDevicePasid("d1", "dev0", 0)],
        "PASID past the width" => [new DomainAllocPaging("dev0", "d1"), new AttachDevicePasid("d1", "dev0", 16)],
        "bind on a device without PASIDs" => [new MmNew("mm1"), new SvaBind("narrow", "mm1", "h1")],
        "mm's PASID too wide for the device" => [new MmNew("mm1"), new SvaBind("dev0", "mm1", "h1"), new SvaBind("narrow", "mm1", "h2")],
        "bind on an unprobed device" => [new Release("dev0"), new MmNew("mm1"), new SvaBind("dev0", "mm1", "h1")],
        "virtio has no set_dev_pasid" => [new DomainAllocPaging("vdev", "v1"), new AttachDevicePasid("v1", "vdev", 1)],
        "DMA with a PASID on a device without PASIDs" => [new DeviceDma("narrow", 0x1000, 4, false, 3)],
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Answers_the_errno_on_both_sides(string name, Errno last)
    {
        var model = ModelState.Initial(SystemConfig.Default, Machine);
        var system = IommuSystem.Create(SystemConfig.Default, Machine, []);
        Outcome? observed = null;
        foreach (var op in (Operation[])[new Probe("dev0"), new Probe("narrow"), new Probe("vdev"), .. Steps(name)])
        {
            var step = model.Step(op);
            observed = system.Execute(op);
            Assert.Equal(step.Outcome, observed);
            model = step.Next;
        }
        Assert.Equal(last, observed!.Errno);
        Assert.Null(system.SvaRefcountProblem());
    }
}
