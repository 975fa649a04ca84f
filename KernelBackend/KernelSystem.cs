using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.KernelBackend.Guest;
using IommuConformance.KernelBackend.Machine;
using IommuConformance.KernelBackend.Protocol;
using IommuConformance.KernelBackend.Warnings;

namespace IommuConformance.KernelBackend;

/// <summary>
/// The kernel as the system under test of one trace: each step becomes what userspace does (docs/real-kernel.md):
/// PCI rescan and remove, sysfs group type reads and writes, sysfs driver bind and unbind, a VFIO group set on a
/// container. The answer is the errno of the one write or ioctl that stands for the operation, the type read for
/// <c>group_type_read</c>, and the warnings parsed from every kernel log record of the step. A step it cannot express
/// throws <see cref="UnreachableStepException"/> before touching the guest.
/// </summary>
public sealed class KernelSystem : ISystem
{
    private readonly KernelGuest _guest;
    private readonly Dictionary<string, int> _index;
    private readonly KernelMachine _machine;
    private readonly Reach _reach;
    private readonly bool[] _vfioBound;
    private readonly Dictionary<string, string> _claimedGroup = new(StringComparer.Ordinal);
    private readonly List<string> _log = [];
    private readonly KernelEra _era;
    private int _step;

    /// <summary>A system on a guest just reset to its initial state, for a trace of <paramref name="topology"/>, the guest's machine.</summary>
    public KernelSystem(KernelGuest guest, Topology topology, KernelEra era = KernelEra.V7_0)
    {
        if (KernelMachine.From(KernelMachine.Config with { Era = era }, topology, out var why) is not { } machine)
            throw new UnreachableStepException($"the topology is no kernel machine: {why}");
        if (machine.Key != guest.Machine.Key)
            throw new UnreachableStepException($"the trace's machine ({machine.Key}) is not the guest's ({guest.Machine.Key})");
        _guest = guest;
        _era = era;
        _machine = guest.Machine;
        _reach = new Reach(_machine);
        _vfioBound = new bool[_machine.Devices.Length];
        _index = topology.Devices.Select((d, i) => (d.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>Every kernel log record of the trace so far (for reports of a disagreement).</summary>
    public IReadOnlyList<string> Log => _log;

    public Outcome Execute(Operation op)
    {
        var name = $"step {_step++} ({op})";
        var device = DeviceOf(op);
        if (_reach.Refusal(op, device) is { } why) throw new UnreachableStepException($"{name} is not reachable on the kernel: {why}");
        var warnings = new List<string>();
        var (errno, value) = Run(op, device, name, warnings);
        var result = KernelErrno.Of(errno, name);
        _reach.Update(op, device, result);
        return new Outcome(result, value, [.. warnings]);
    }

    private int DeviceOf(Operation op)
    {
        var i = op.Spec.IndexOf(Args.Dev.Field);
        if (i < 0) return -1;
        var dev = op.Values[i].Text ?? "";
        return _index.TryGetValue(dev, out var d) ? d : throw new UnreachableStepException($"{op}: no device {dev} in the machine");
    }

    private (int Errno, string? Value) Run(Operation op, int device, string step, List<string> warnings)
    {
        var d = device >= 0 ? _machine.Devices[device] : null;
        switch (op)
        {
            case BusProbe when !_reach.Started:
                return (0, null); // the kernel's own bus probe at boot; the guest was reset to what it left
            case BusProbe or Probe:
                var absent = Enumerable.Range(0, _machine.Devices.Length).Where(i => !_reach.Present(i)).ToList();
                var rescan = Ask(step, warnings, "write", "/sys/bus/pci/rescan", "1");
                if (_era == KernelEra.V6_1) UndoRescanBinds(absent, step, warnings);
                return (rescan.Errno, null);
            case Release:
                _vfioBound[device] = false;
                return (Ask(step, warnings, "write", $"/sys/bus/pci/devices/{d!.Bdf}/remove", "1").Errno, null);
            case GroupTypeRead:
                var read = Ask(step, warnings, "read", $"/sys/bus/pci/devices/{d!.Bdf}/iommu_group/type");
                var type = read.Value ?? "";
                return (read.Errno, read.Errno == 0 ? (type.EndsWith('\n') ? type[..^1] : type) : null);
            case GroupTypeWrite w:
                return (Ask(step, warnings, "write", $"/sys/bus/pci/devices/{d!.Bdf}/iommu_group/type", w.Type).Errno, null);
            case DriverBind:
                return (Ask(step, warnings, "write", $"/sys/bus/pci/drivers/{d!.Driver}/bind", d.Bdf).Errno, null);
            case DriverUnbind:
                // The driver's own unbind file: ENODEV for a device it does not hold, as the contract reads sysfs unbind.
                return (Ask(step, warnings, "write", $"/sys/bus/pci/drivers/{d!.Driver}/unbind", d.Bdf).Errno, null);
            case ClaimGroupDmaOwner:
                return (Claim(device, step, warnings), null);
            case ReleaseGroupDmaOwner:
                var group = _claimedGroup[_reach.GroupKey(device)];
                _claimedGroup.Remove(_reach.GroupKey(device));
                var released = Ask(step, warnings, "vfio_release", group);
                if (_era == KernelEra.V6_1) UnbindVfio(step, warnings);
                return (released.Errno, null);
            case DomainAllocPaging:
                // Deferred: type1 allocates in VFIO_SET_IOMMU, which is the attach; that call's errno answers the pair.
                return (0, null);
            case AttachGroup or AttachDevice:
                return (Ask(step, warnings, "vfio_set_iommu", _claimedGroup[_reach.GroupKey(device)]).Errno, null);
            case Map m:
                return (MapDma(m, step, warnings), null);
            case Unmap u:
                var unmap = Ask(step, warnings, "vfio_unmap", ContainerOf(u.Domain), Hex(u.Iova), Hex(u.Size));
                if (unmap.Errno != 0) return (unmap.Errno, null);
                if (!ulong.TryParse(unmap.Value, out var bytes)) throw new KernelBackendException($"{step}: the agent's unmap answered no byte count ({unmap.Value})");
                return (0, OutcomeValues.Number(bytes));
            case DeviceDma dma:
                return Dma(dma, device, step, warnings);
            default:
                throw new UnreachableStepException($"{step}: no kernel mapping"); // Reach refused it already
        }
    }

    /// <summary>
    /// Bind the group's edu to vfio-pci if it is not yet (a driver_managed_dma driver: no IOMMU bookkeeping, so the
    /// model does not see it), open the group and set it on a container: VFIO_GROUP_SET_CONTAINER is the claim.
    /// </summary>
    private int Claim(int device, string step, List<string> warnings)
    {
        var standIn = _reach.StandIn(device);
        var edu = _machine.Devices[standIn];
        if (!_vfioBound[standIn])
        {
            Must(step, Ask(step, warnings, "write", $"/sys/bus/pci/devices/{edu.Bdf}/driver_override", "vfio-pci"), "set driver_override of the VFIO stand-in");
            Must(step, Ask(step, warnings, "write", "/sys/bus/pci/drivers/vfio-pci/bind", edu.Bdf), "bind the VFIO stand-in to vfio-pci");
            _vfioBound[standIn] = true;
        }
        var group = Ask(step, warnings, "link", $"/sys/bus/pci/devices/{edu.Bdf}/iommu_group");
        Must(step, group, "read the stand-in's group");
        var claim = Ask(step, warnings, "vfio_claim", group.Value!);
        // Only SET_CONTAINER's errno is the claim's answer; failing to open the group is the back-end's own failure.
        if (claim.Errno != 0 && claim.Value != "SET_CONTAINER")
            throw new KernelBackendException($"{step}: VFIO {claim.Value} of group {group.Value} failed with errno {claim.Errno}");
        if (claim.Errno == 0) _claimedGroup[_reach.GroupKey(device)] = group.Value!;
        return claim.Errno;
    }

    /// <summary>
    /// VFIO_IOMMU_MAP_DMA of the handle's container: the memory is the agent's buffer at an offset whose low bits are
    /// the paddr's (an unaligned paddr is an unaligned vaddr, refused as iommu_map refuses it); the physical address
    /// itself is the kernel's choice, not the trace's (only the answer is compared).
    /// </summary>
    private int MapDma(Map m, string step, List<string> warnings)
    {
        var offset = VfioDomains.BufferOffset(m.Paddr, m.Size);
        var flags = (m.Prot.Contains('r') ? 1 : 0) | (m.Prot.Contains('w') ? 2 : 0); // VFIO_DMA_MAP_FLAG_READ, _WRITE
        var reply = Ask(step, warnings, "vfio_map", ContainerOf(m.Domain), Hex(m.Iova), Hex(m.Size), Hex(offset), flags.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (reply.Errno != 0 && reply.Value is not null)
            throw new KernelBackendException($"{step}: the agent could not map ({reply.Value}, errno {reply.Errno})");
        return reply.Errno;
    }

    /// <summary>
    /// A DMA by the group's edu through its VFIO device fd: a write must land at the buffer offset of the map holding the
    /// IOVA (the agent checks every byte); a fault is a DMAR fault interrupt (counted: the log record is ratelimited).
    /// OK carries the trace's physical address of the map the bytes landed in (for a read: of the map, as no fault was
    /// raised); a fault is <see cref="KernelJudge.VtdFault"/>, which VT-d raises alike for an unmapped IOVA and a
    /// missing right. Anything else (some bytes landed, or landed and faulted) is an answer the model never allows.
    /// </summary>
    private (int, string?) Dma(DeviceDma op, int device, string step, List<string> warnings)
    {
        var handle = _reach.Domains.AttachedIn(_reach.GroupKey(device))!;
        var map = _reach.Domains.MapAt(handle, op.Iova);
        var landing = map is null || !op.Write ? "-" : Hex(VfioDomains.BufferOffset(map.Paddr, map.Size) + (op.Iova - map.Iova));
        var reply = Ask(step, warnings, "vfio_dma", _claimedGroup[_reach.GroupKey(device)], _machine.Devices[device].Bdf, Hex(op.Iova), Hex(op.Size), op.Write ? "1" : "0", landing);
        if (reply.Errno != 0) throw new KernelBackendException($"{step}: the agent's edu DMA failed at {reply.Value} (errno {reply.Errno})");
        warnings.RemoveAll(w => w.StartsWith("dmar_fault(", StringComparison.Ordinal)); // the fault is the answer, not a warning
        var parts = (reply.Value ?? "").Split(' ');
        if (parts.Length != 2 || !int.TryParse(parts[1], out var faults) || faults < 0)
            throw new KernelBackendException($"{step}: the agent's edu DMA answered '{reply.Value}' (no fault count)");
        return (parts[0], faults) switch
        {
            ("1" or "-", 0) when map is not null => (0, DmaValues.Phys(map.Paddr + (op.Iova - map.Iova))),
            ("0" or "-", > 0) => (EioErrno, KernelJudge.VtdFault),
            _ => (map is null ? 0 : EioErrno, DmaValues.Fault($"inconsistent(landed {parts[0]}, {faults} fault interrupts)")),
        };
    }

    private static readonly int EioErrno = 5;

    private string ContainerOf(string handle) => _claimedGroup[_reach.Domains.GroupOf(handle)!];

    private static string Hex(ulong value) => $"0x{value:x}";

    /// <summary>
    /// 6.1's PCI core binds a re-added device's driver at rescan although drivers_autoprobe is 0 (the PCI core's, not
    /// the IOMMU core's: docs/real-kernel.md "Era"): the back-end unbinds what the rescan bound, so that every bind is
    /// a trace step, as on 7.x.
    /// </summary>
    private void UndoRescanBinds(List<int> readded, string step, List<string> warnings)
    {
        foreach (var i in readded)
        {
            var d = _machine.Devices[i];
            if (d.Driver is null) continue;
            var link = Ask(step, warnings, "link", $"/sys/bus/pci/devices/{d.Bdf}/driver");
            if (link.Errno != 0) continue; // not bound
            Must(step, Ask(step, warnings, "write", $"/sys/bus/pci/drivers/{link.Value}/unbind", d.Bdf), $"unbind {link.Value} from {d.Bdf}, bound by the 6.1 rescan");
        }
    }

    /// <summary>
    /// 6.1's type write refuses any bound device (EBUSY), vfio-pci included, which the model does not see: on 6.1 the
    /// back-end keeps vfio-pci bound only while VFIO holds the group, so "bound" is what the model knows (a DMA-API
    /// driver, or the group's VFIO owner).
    /// </summary>
    private void UnbindVfio(string step, List<string> warnings)
    {
        for (var i = 0; i < _vfioBound.Length; i++)
        {
            if (!_vfioBound[i] || _claimedGroup.ContainsKey(_reach.GroupKey(i))) continue;
            Must(step, Ask(step, warnings, "write", "/sys/bus/pci/drivers/vfio-pci/unbind", _machine.Devices[i].Bdf), "unbind the VFIO stand-in from vfio-pci");
            _vfioBound[i] = false;
        }
    }

    private static void Must(string step, AgentReply reply, string what)
    {
        if (reply.Errno != 0) throw new KernelBackendException($"{step}: could not {what} (errno {reply.Errno})");
    }

    private AgentReply Ask(string step, List<string> warnings, string op, params string[] args)
    {
        var reply = _guest.Request(step, op, args);
        _log.AddRange(reply.Log);
        // ENOSYS naming the request: the agent in the cache's initramfs is older than kernel/agent.c.
        if (reply.Errno == 38 && reply.Value == op)
            throw new KernelBackendException($"{step}: the guest's agent has no '{op}' request (it is older than kernel/agent.c): rerun scripts/kernel-setup.sh, which rebuilds the agent and the initramfs");
        // A stall report is the host's overload showing through TCG, not the step's behaviour: the run is void.
        if (reply.Log.FirstOrDefault(SplatParser.IsStall) is { } stall)
            throw new KernelBackendException($"{step}: the guest stalled ({stall}): the host is overloaded; the run is void, not a disagreement");
        warnings.AddRange(SplatParser.Parse(reply.Log));
        return reply;
    }
}
