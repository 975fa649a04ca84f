using IommuConformance.Contract;
using IommuConformance.Harness.Core.Json;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Traces;

/// <summary>
/// The cross-references of a trace: topology consistency, every <c>dev</c> a topology device, every
/// <c>domain</c> a name an earlier step bound with <c>as</c>, every bug in the catalogue. Works on
/// <see cref="Trace"/> values, so generators and the shrinker can use it to keep only replayable traces.
/// </summary>
public static class TraceValidator
{
    /// <summary>Throws <see cref="TraceFormatException"/> naming the first problem.</summary>
    public static void Validate(Trace trace)
    {
        if (FindProblem(trace) is { } problem) throw problem;
    }

    /// <summary>True when <see cref="FindProblem"/> finds nothing.</summary>
    public static bool IsValid(Trace trace) => FindProblem(trace) is null;

    /// <summary>The first problem, or null; never throws.</summary>
    public static TraceFormatException? FindProblem(Trace trace) =>
        CheckConfig(trace.Config) ?? CheckBugs(trace) ?? CheckIommus(trace.Topology) ?? CheckDevices(trace.Topology)
        ?? CheckSteps(trace);

    private static TraceFormatException? CheckConfig(SystemConfig config) =>
        config.Cpus < 1 ? new("config", "cpus", $"must be at least 1, found {config.Cpus}")
        : !Enum.IsDefined(config.DefaultDomain) ? new("config", "defaultDomain", $"unknown type {config.DefaultDomain}")
        : !Enum.IsDefined(config.Era) ? new("config", "era", $"unknown era {config.Era}")
        : null;

    private static TraceFormatException? CheckBugs(Trace trace)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < trace.Bugs.Length; i++)
        {
            var bug = trace.Bugs[i];
            if (!seen.Add(bug)) return new("trace", "bugs", $"\"{bug}\" is listed twice");
            if (!KnownBugs.IsKnown(bug))
                return new("trace", "bugs", $"unknown bug \"{bug}\"; known: {string.Join(", ", KnownBugs.Names)}");
        }
        return null;
    }

    private static TraceFormatException? CheckIommus(Topology topology)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < topology.Iommus.Length; i++)
        {
            var iommu = topology.Iommus[i];
            var where = $"topology.iommus[{i}] ({iommu.Name})";
            if (string.IsNullOrEmpty(iommu.Name)) return new(where, "name", "must not be empty");
            if (!seen.Add(iommu.Name)) return new(where, "name", $"duplicate IOMMU name \"{iommu.Name}\"");
            if (!DriverNames.All.Contains(iommu.Driver))
                return new(where, "driver", $"unknown driver \"{iommu.Driver}\"; known: {string.Join(", ", DriverNames.All)}");
            if (iommu.Options.IotlbEntries is < 1)
                return new($"{where}.options", "iotlbEntries", $"must be at least 1, found {iommu.Options.IotlbEntries}");
        }
        return null;
    }

    private static TraceFormatException? CheckDevices(Topology topology)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < topology.Devices.Length; i++)
        {
            var device = topology.Devices[i];
            var where = $"topology.devices[{i}] ({device.Name})";
            if (string.IsNullOrEmpty(device.Name)) return new(where, "name", "must not be empty");
            if (!seen.Add(device.Name)) return new(where, "name", $"duplicate device name \"{device.Name}\"");
            if (!BusNames.All.Contains(device.Bus))
                return new(where, "bus", $"unknown bus \"{device.Bus}\"; known: {string.Join(", ", BusNames.All)}");
            if (device.Iommu is not null && topology.FindIommu(device.Iommu) is null)
                return new(where, "iommu", $"\"{device.Iommu}\" is not an IOMMU of the topology");
            if (string.IsNullOrEmpty(device.Group)) return new(where, "group", "must not be empty");
            if (device.MaxPasids < 0) return new(where, "maxPasids", $"must not be negative, found {device.MaxPasids}");
            if (device.DefDomainType is { } t && !TraceNames.DeviceDefDomainTypes.Contains(t))
                return new(where, "defDomainType",
                    $"unknown type \"{t}\"; known: {string.Join(", ", TraceNames.DeviceDefDomainTypes)} or null");
        }
        return null;
    }

    /// <summary>Names no <c>as</c> may bind: they are answers of <c>get_domain</c> and would make its answers ambiguous.</summary>
    public static readonly IReadOnlySet<string> ReservedHandleNames =
        new HashSet<string>(StringComparer.Ordinal) { DomainNames.Default, DomainNames.Blocking, DomainNames.Identity, DomainNames.None };

    private static TraceFormatException? CheckSteps(Trace trace)
    {
        var devices = trace.Topology.Devices.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var validator = new StepValidator(
            (space, name) => space switch
            {
                Spaces.Device => devices.Contains(name),
                Spaces.Bus => BusNames.All.Contains(name),
                _ => false,
            },
            new Dictionary<string, IReadOnlySet<string>> { [Spaces.Domain] = ReservedHandleNames });
        return validator.FindProblem(trace.Steps);
    }
}
