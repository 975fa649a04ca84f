using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Implementations.Adapter;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations;

/// <summary>
/// One emulated machine: IOMMU instances with their drivers and hardware, the core, and the handle table that
/// turns trace operations into kernel calls (the part iommufd's test ioctls play in the selftests).
/// </summary>
public sealed partial class IommuSystem
{
    private readonly IommuCore _core;
    private readonly HardwarePlatform _platform;
    private readonly ImmutableArray<Device> _devices;
    private readonly Dictionary<string, Device> _devicesByName;
    private readonly HandleTable _handles = new();
    private readonly DriverCore _driverCore;

    private IommuSystem(IommuCore core, HardwarePlatform platform, ImmutableArray<Device> devices)
    {
        _core = core;
        _platform = platform;
        _devices = devices;
        _devicesByName = devices.ToDictionary(d => d.Name, StringComparer.Ordinal);
        _driverCore = new DriverCore(core);
    }

    /// <summary>The seeded bugs switched on in this machine.</summary>
    public BugSwitches Bugs => _core.Bugs;

    /// <summary>Builds the machine; throws ArgumentException naming an unknown bug, driver or instance.</summary>
    public static IommuSystem Create(SystemConfig config, Topology topology, IEnumerable<string> bugs)
    {
        var switches = BugSwitches.Of(bugs);
        var core = new IommuCore(config.DefaultDomain, switches);
        var platform = new HardwarePlatform();
        Smmuv3Driver? smmuv3 = null;
        MockDriver? mock = null;

        // iommu_device_register() of every instance; drivers come up with their first instance.
        var instances = new Dictionary<string, IommuDevice>(StringComparer.Ordinal);
        foreach (var spec in topology.Iommus)
        {
            if (instances.ContainsKey(spec.Name))
                throw new ArgumentException($"IOMMU instance '{spec.Name}' is declared twice", nameof(topology));
            (IommuOps ops, ContextTable hardware) = spec.Driver switch
            {
                DriverNames.Smmuv3 => ((smmuv3 ??= new Smmuv3Driver(core, platform, switches)).OpsFor(spec),
                    (ContextTable)new StreamTable(spec.Name, platform.Errors)),
                DriverNames.Mock => (mock ??= new MockDriver(core, platform), new MockRecords(spec.Name, platform.Errors)),
                _ => throw new ArgumentException($"IOMMU instance '{spec.Name}' names unknown driver '{spec.Driver}'", nameof(topology)),
            };
            platform.Add(hardware);
            instances.Add(spec.Name, new IommuDevice(spec, ops, hardware));
        }

        var devices = ImmutableArray.CreateBuilder<Device>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in topology.Devices)
        {
            if (!names.Add(spec.Name))
                throw new ArgumentException($"device '{spec.Name}' is declared twice", nameof(topology));
            IommuDevice? fwspec = null;
            if (spec.Iommu is not null && !instances.TryGetValue(spec.Iommu, out fwspec))
                throw new ArgumentException($"device '{spec.Name}' names unknown IOMMU instance '{spec.Iommu}'", nameof(topology));
            devices.Add(new Device(spec, fwspec));
        }
        core.AddDevices(devices.ToImmutable());
        return new IommuSystem(core, platform, devices.ToImmutable());
    }

    /// <summary>
    /// Runs one operation; never throws for bad input (answers the errno the contract names). An operation with no
    /// handler throws <see cref="NotSupportedException"/> naming it: a suite bug, not an answer.
    /// </summary>
    public Outcome Execute(Operation op)
    {
        var (outcome, warnings) = _core.Warnings.Capture(() => Dispatch(op));
        return outcome.WithWarnings(warnings);
    }

    /// <summary>A read-only view of the core's and the hardware's state, for invariant checks.</summary>
    public SystemSnapshot Snapshot()
    {
        var devices = _devices.Select(d => new DeviceSnapshot(
            d.Name,
            d.Spec.Iommu,
            d.Group?.Id,
            _driverCore.IsBound(d),
            d.Fwspec?.Hardware.Read(d.Name) ?? HwContext.None));

        var groups = _core.LiveGroups().Select(g =>
        {
            lock (g.Mutex)
            {
                return new GroupSnapshot(g.Id, g.Iommu.Name, g.Key, [.. g.Devices.Select(gd => gd.Dev.Name)],
                    g.Domain?.Id, g.DefaultDomain?.Id, g.BlockingDomain?.Id, g.Owner, g.OwnerCnt, g.RefCount);
            }
        });

        var domains = _core.LiveDomains().Select(d => new DomainSnapshot(
            d.Id, d.Type.SysfsName(), d.Driver, d.Owner?.Name, d.Iommu?.Name, d.IsStatic, _handles.NameOf(d)));

        return new SystemSnapshot([.. devices], [.. groups], [.. domains], [.. _platform.Errors.All]);
    }
}
