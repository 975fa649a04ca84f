using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Implementations.Adapter;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Mock;
using IommuConformance.Implementations.Hardware.Smmuv3;
using IommuConformance.Implementations.Hardware.Virtio;
using IommuConformance.Implementations.Hardware.Vtd;

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
    private readonly HandleTable _handles;
    private readonly DriverCore _driverCore;

    private IommuSystem(IommuCore core, HardwarePlatform platform, ImmutableArray<Device> devices)
    {
        _core = core;
        _platform = platform;
        _devices = devices;
        _devicesByName = devices.ToDictionary(d => d.Name, StringComparer.Ordinal);
        _handles = new HandleTable(core.Touched);
        _driverCore = new DriverCore(core);
    }

    /// <summary>The seeded bugs switched on in this machine.</summary>
    public BugSwitches Bugs => _core.Bugs;

    /// <summary>
    /// What the last <see cref="Execute"/> may have changed (devices, groups, domains, by snapshot id); cleared at
    /// the start of each <see cref="Execute"/>. Over-reports; never misses a change unless a seeded bug hides it.
    /// </summary>
    public TouchedSet Touched => _core.Touched;

    /// <summary>The drivers this implementation has (the contract names more: <see cref="DriverNames.All"/>).</summary>
    public static readonly IReadOnlyList<string> Drivers = [DriverNames.Smmuv3, DriverNames.Mock, DriverNames.Vtd, DriverNames.Virtio];

    /// <summary>
    /// Why this implementation cannot build a valid trace's machine — an era other than 7.0, a driver it does not have —
    /// or null. A trace it cannot run is not a divergence: callers refuse it before running it.
    /// </summary>
    public static string? CannotRun(SystemConfig config, Topology topology)
    {
        if (config.Era != KernelEra.V7_0)
            return $"the emulated implementation follows the contract's 7.0 era only; era {KernelEras.Name(config.Era)} is a model option for the kernel back-end (docs/real-kernel.md)";
        foreach (var spec in topology.Iommus)
            if (!Drivers.Contains(spec.Driver))
                return $"IOMMU instance '{spec.Name}' names driver '{spec.Driver}', which the emulated implementation does not have yet (it has {string.Join(", ", Drivers)})";
        return null;
    }

    /// <summary>Builds the machine; throws ArgumentException naming an unknown bug, driver or instance, or an era other than 7.0.</summary>
    public static IommuSystem Create(SystemConfig config, Topology topology, IEnumerable<string> bugs)
    {
        if (CannotRun(config, topology) is { } why) throw new ArgumentException(why, nameof(topology));
        var switches = BugSwitches.Of(bugs);
        var touched = new TouchedSet();
        var core = new IommuCore(config.DefaultDomain, switches, touched);
        var platform = new HardwarePlatform();
        Smmuv3Driver? smmuv3 = null;
        MockDriver? mock = null;
        VtdDriver? vtd = null;
        VirtioDriver? virtio = null;

        // Seeded bug stream_table_alias: the SMMU decodes one stream-id bit, and the driver sizes its table from that.
        (IommuOps, IommuHardware) Smmuv3(IommuSpec spec)
        {
            var hw = new Smmuv3Hardware(spec.Name, platform, switches.IsOn(BugCatalogue.StreamTableAlias) ? 1 : Smmuv3Hardware.DefaultSidBits);
            return ((smmuv3 ??= new Smmuv3Driver(core, platform, switches)).AddInstance(spec, hw), hw);
        }
        (IommuOps, IommuHardware) Mock(IommuSpec spec)
        {
            var hw = new MockHardware(spec.Name, platform);
            return ((mock ??= new MockDriver(core, platform)).AddInstance(spec, hw), hw);
        }

        (IommuOps, IommuHardware) Vtd(IommuSpec spec)
        {
            var hw = new VtdHardware(spec.Name, platform, cachingMode: spec.Options.CachingMode ?? false,
                scalableMode: spec.Options.Scalable ?? false);
            return ((vtd ??= new VtdDriver(core, platform, switches)).AddInstance(spec, hw), hw);
        }

        (IommuOps, IommuHardware) Virtio(IommuSpec spec)
        {
            var hw = new VirtioIommuHardware(spec.Name, platform);
            return ((virtio ??= new VirtioDriver(core, platform)).AddInstance(spec, hw), hw);
        }

        // iommu_device_register() of every instance; drivers come up with their first instance.
        var instances = new Dictionary<string, IommuDevice>(StringComparer.Ordinal);
        foreach (var spec in topology.Iommus)
        {
            if (instances.ContainsKey(spec.Name))
                throw new ArgumentException($"IOMMU instance '{spec.Name}' is declared twice", nameof(topology));
            (IommuOps ops, IommuHardware hardware) = spec.Driver switch
            {
                DriverNames.Smmuv3 => Smmuv3(spec),
                DriverNames.Mock => Mock(spec),
                DriverNames.Vtd => Vtd(spec),
                DriverNames.Virtio => Virtio(spec),
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
            devices.Add(new Device(spec, fwspec, touched));
        }
        foreach (var instance in instances.Values)
            instance.Hardware.AssignRequesters(devices.Where(d => d.Fwspec == instance));
        core.AddDevices(devices.ToImmutable());
        touched.Clear();
        var system = new IommuSystem(core, platform, devices.ToImmutable());
        system.WireDma(config);
        system._framesAtBuild = platform.Allocator.LiveFrames;
        system._keptFrames = () => vtd?.KeptFrames ?? 0;
        return system;
    }

    /// <summary>
    /// Runs one operation; never throws for bad input (answers the errno the contract names). An operation with no
    /// handler throws <see cref="NotSupportedException"/> naming it: a suite bug, not an answer.
    /// </summary>
    public Outcome Execute(Operation op)
    {
        Touched.Clear();
        var (outcome, warnings) = _core.Warnings.Capture(() => Dispatch(op));
        return outcome.WithWarnings(warnings);
    }
}
