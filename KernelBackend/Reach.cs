using IommuConformance.Contract;
using IommuConformance.KernelBackend.Machine;

namespace IommuConformance.KernelBackend;

/// <summary>
/// Which steps userspace can express on a machine (<see cref="KernelMachine.From"/>), and in which states (the table of docs/real-kernel.md).
/// The facts it needs are few and the same on both sides of a run: which devices are present on the PCI bus, which
/// groups are held through VFIO, and whether the boot's bus probe has been stepped over. <see cref="Update"/> moves
/// them on from a step's errno, so the back-end (from the kernel's answers) and the kernel campaign's generator (from
/// the model's) keep them alike.
/// </summary>
public sealed class Reach
{
    private readonly KernelMachine _machine;
    private readonly bool[] _present;
    private readonly HashSet<string> _claimed = new(StringComparer.Ordinal);
    private readonly VfioDomains _domains = new();

    /// <summary>The facts of a trace on <paramref name="machine"/>, before its first step.</summary>
    public Reach(KernelMachine machine)
    {
        _machine = machine;
        _present = Enumerable.Repeat(true, machine.Devices.Length).ToArray();
    }

    public KernelMachine Machine => _machine;

    /// <summary>Whether the first step, the boot's <c>bus_probe {bus: pci}</c>, has been taken.</summary>
    public bool Started { get; private set; }

    public bool Present(int device) => _present[device];

    public bool Claimed(int device) => _claimed.Contains(GroupKey(device));

    /// <summary>The trace's paging domains as VFIO holds them (allocated, attached, their mappings).</summary>
    public VfioDomains Domains => _domains;

    public string GroupKey(int device) => _machine.GroupKey(device);

    /// <summary>The present edu of the device's group that stands in for its VFIO user, or -1.</summary>
    public int StandIn(int device)
    {
        for (var i = 0; i < _machine.Devices.Length; i++)
            if (_machine.Devices[i].VfioStandIn && GroupKey(i) == GroupKey(device) && _present[i]) return i;
        return -1;
    }

    /// <summary>Null when the step can run now; else why not. <paramref name="device"/> is the step's device index or -1.</summary>
    public string? Refusal(Operation op, int device)
    {
        if (!Started)
            return op is BusProbe { Bus: BusNames.Pci } ? null
                : "a kernel trace starts with bus_probe {bus: pci}: the kernel probed every device at boot";
        var d = device >= 0 ? _machine.Devices[device] : null;
        switch (op)
        {
            case BusProbe b:
                return b.Bus == BusNames.Pci ? null : "the machine has no platform bus userspace can rescan";
            case Probe:
                for (var i = 0; i < _present.Length; i++)
                    if (i != device && !_present[i])
                        return "a PCI rescan re-adds every removed device: probe {dev} only while no other device is removed";
                return null;
            case Release:
                if (d!.Bridge) return "removing the bridge removes the devices behind it";
                if (!_present[device]) return "an absent device cannot be removed (no sysfs node)";
                if (Claimed(device)) return "removing a device of a group held open through VFIO waits for userspace";
                return null;
            case GroupTypeRead or GroupTypeWrite:
                return _present[device] ? null : "an absent device has no iommu_group link";
            case DriverBind or DriverUnbind:
                if (d!.Driver is null) return $"{d.QemuDevice.Split(',')[0]} has no DMA-API kernel driver";
                return _present[device] ? null : "an absent device cannot be bound (no sysfs node)";
            case ClaimGroupDmaOwner c:
                if (c.Owner is null) return "VFIO always claims with an owner (its group)";
                if (!_present[device]) return "an absent device has no group";
                if (StandIn(device) < 0) return "a VFIO claim needs a driverless edu of the group bound to vfio-pci, and the group has none present";
                if (Claimed(device)) return "a second VFIO open of a group fails in vfio (EBUSY) before the IOMMU core";
                return null;
            case ReleaseGroupDmaOwner:
                if (!_present[device]) return "an absent device has no group";
                return Claimed(device) ? null : "VFIO releases only a group it holds (unset container of an unset group fails in vfio)";
            case ClaimDmaOwner or ReleaseDmaOwner:
                return "device DMA ownership is claimed by iommufd's VFIO cdev path, and the kernel has no CONFIG_IOMMUFD";
            case GetDomain:
                return "no userspace interface reports a device's current domain";
            case DomainAllocPaging a:
                if (!_present[device]) return "an absent device has no group";
                return _domains.AllocRefusal(a, GroupKey(device), Claimed(device));
            case AttachGroup or AttachDevice when !_present[device]:
                return "an absent device has no group (VFIO_SET_IOMMU would attach the rest of it)";
            case AttachDevice when _machine.Devices.Count(x => x.Spec.Group == d!.Spec.Group) != 1:
                return "VFIO attaches whole groups: attach_device in a group of several (EINVAL in the core) is never called";
            case AttachGroup or AttachDevice:
                return _domains.AttachRefusal(AttachedHandle(op), GroupKey(device), Claimed(device));
            case Map m:
                return _domains.MapRefusal(m);
            case Unmap u:
                return _domains.UnmapRefusal(u);
            case DetachGroup or DetachDevice:
                return "VFIO type1 detaches a domain only when its group leaves the container (VFIO_GROUP_UNSET_CONTAINER), which releases the DMA ownership too: that is release_group_dma_owner";
            case DomainFree:
                return "VFIO type1 frees its domain itself when the last group leaves the container: userspace has no free";
            case DeviceDma dma:
                return DmaRefusal(dma, device);
            case IovaToPhys:
                return "no userspace interface reads the IOMMU page table";
            default:
                return $"{op.Name} is not user-reachable in this slice";
        }
    }

    /// <summary>Moves the facts on after a step that ran with <paramref name="errno"/>.</summary>
    public void Update(Operation op, int device, Errno errno)
    {
        switch (op)
        {
            case BusProbe when !Started:
                Started = true;
                break;
            case BusProbe or Probe:
                Array.Fill(_present, true); // a rescan re-adds every removed device
                break;
            case Release:
                _present[device] = false;
                break;
            case ClaimGroupDmaOwner when errno == Errno.OK:
                _claimed.Add(GroupKey(device));
                break;
            case ReleaseGroupDmaOwner: // the agent closes the group and container whatever the unset answered
                _claimed.Remove(GroupKey(device));
                _domains.Released(GroupKey(device));
                break;
            case DomainAllocPaging a when errno == Errno.OK:
                _domains.Allocated(a.As, GroupKey(device));
                break;
            case AttachGroup or AttachDevice when errno == Errno.OK:
                _domains.AttachedTo(AttachedHandle(op));
                break;
            case Map m when errno == Errno.OK:
                _domains.Mapped(m);
                break;
            case Unmap u when errno == Errno.OK:
                _domains.Unmapped(u);
                break;
        }
    }

    /// <summary>A DMA by the group's edu, opened through VFIO (docs/real-kernel.md "Device DMA through edu").</summary>
    private string? DmaRefusal(DeviceDma op, int device)
    {
        if (op.Pasid is not null) return "the emulated VT-d runs in legacy mode: no PASID";
        if (!_present[device]) return "an absent device does no DMA";
        if (!_machine.Devices[device].VfioStandIn) return "only edu does DMA on command (through its VFIO device fd)";
        if (!Claimed(device)) return "edu's DMA is reachable through VFIO only: the group must be held";
        if (_domains.AttachedIn(GroupKey(device)) is not { } handle) return "VFIO opens a device fd only once the container's IOMMU is set (attach first)";
        if (op.Size == 0 || op.Size > 4095)
            return "edu's DMA buffer is 4 KiB and QEMU 7.2's edu_check_range needs the end inside it: a count of 0 or of 4096 and more aborts QEMU (hw_error)";
        if (op.Iova + (op.Size - 1) >= 1UL << 28) return "edu's DMA mask is 28 bits (QEMU clamps the address)";
        return _domains.DmaRefusal(handle, op);
    }

    private static string AttachedHandle(Operation op) => op switch { AttachGroup g => g.Domain, AttachDevice a => a.Domain, _ => "" };
}
