using System.Collections.Immutable;
using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations;

/// <summary>
/// Read-only views of the core's and the hardware's state, for invariant checks: the whole machine, or one device,
/// group or domain (the harness re-reads only what <see cref="IommuSystem.Touched"/> names, and sweeps now and then).
/// The full snapshot is exactly the parts assembled.
/// </summary>
public sealed partial class IommuSystem
{
    /// <summary>The whole machine: every device in topology order, live groups and live domains by id, hardware errors.</summary>
    public SystemSnapshot Snapshot() => new(
        [.. _devices.Select(Snapshot)],
        [.. _core.LiveGroups().Select(Snapshot)],
        [.. _core.LiveDomains().Select(Snapshot)],
        [.. _platform.Errors.All]);

    /// <summary>The hardware errors detected so far, in order (usually none: the list is copied only when it is not empty).</summary>
    public IReadOnlyList<string> HardwareErrors => _platform.Errors.All;

    /// <summary>One device of the topology; throws <see cref="ArgumentException"/> for an unknown name.</summary>
    public DeviceSnapshot SnapshotDevice(string name) =>
        _devicesByName.TryGetValue(name, out var dev) ? Snapshot(dev) : throw new ArgumentException($"no device '{name}'", nameof(name));

    /// <summary>The live group with that id, or null when no live group has it.</summary>
    public GroupSnapshot? SnapshotGroup(int id) => _core.FindGroup(id) is { } group ? Snapshot(group) : null;

    /// <summary>The live domain with that id, or null when it was freed or never existed.</summary>
    public DomainSnapshot? SnapshotDomain(int id) => _core.FindDomain(id) is { } domain ? Snapshot(domain) : null;

    private DeviceSnapshot Snapshot(Device d) => new(
        d.Name, d.Spec.Iommu, d.Group?.Id, _driverCore.IsBound(d), d.Fwspec?.Hardware.ReadContext(d.Name) ?? HwContext.None);

    private static GroupSnapshot Snapshot(IommuGroup g)
    {
        lock (g.Mutex)
        {
            var devices = g.Devices;
            var members = ImmutableArray.CreateBuilder<string>(devices.Count);
            for (var i = 0; i < devices.Count; i++) members.Add(devices[i].Dev.Name);
            return new GroupSnapshot(g.Id, g.Iommu.Name, g.Key, members.MoveToImmutable(),
                g.Domain?.Id, g.DefaultDomain?.Id, g.BlockingDomain?.Id, g.Owner, g.OwnerCnt, g.RefCount) { Pasids = PasidSlots(g) };
        }
    }

    private static ImmutableArray<PasidSlotSnapshot> PasidSlots(IommuGroup g) =>
        g.PasidArray.Count == 0 ? [] : [.. g.PasidArray.Select(e => new PasidSlotSnapshot(e.Key, e.Value.Domain.Id, e.Value.Handle switch
        {
            null => "bare",
            IommuSva => "sva",
            _ => "iommufd",
        }, (e.Value.Handle as IommuSva)?.Users ?? 0))];

    private DomainSnapshot Snapshot(IommuDomain d) =>
        new(d.Id, d.Type.SysfsName(), d.Driver, d.Owner?.Name, d.Iommu?.Name, d.IsStatic, _handles.NameOf(d));
}
