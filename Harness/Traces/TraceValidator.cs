using IommuConformance.Contract;

namespace IommuConformance.Harness.Traces;

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

    private static TraceFormatException? CheckSteps(Trace trace)
    {
        var devices = trace.Topology.Devices.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var bound = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < trace.Steps.Length; i++)
        {
            var step = trace.Steps[i];
            var where = $"step {i + 1} ({step.Op.Name})";
            if (!OperationShapes.ByName.ContainsKey(step.Op.Name))
                return new(where, "op", $"unknown operation \"{step.Op.Name}\"");
            foreach (var (field, value) in step.Op.Fields())
            {
                var problem = field switch
                {
                    "dev" when value is null || !devices.Contains(value) => $"\"{value}\" is not a device of the topology",
                    "bus" when value is null || !BusNames.All.Contains(value) => $"unknown bus \"{value}\"; known: {string.Join(", ", BusNames.All)}",
                    "domain" when value is null || !bound.Contains(value) => $"\"{value}\" is not bound by an earlier step's 'as'",
                    "as" when string.IsNullOrEmpty(value) => "must not be empty",
                    "flags" when value is not null && !OperationShapes.KnownFlags.Contains(value) => $"unknown flag \"{value}\"",
                    _ => null,
                };
                if (problem is not null) return new(where, field, problem);
            }
            if (step.Expect?.Warnings?.FirstOrDefault(w => !Warn.All.Contains(w)) is { } unknown)
                return new($"{where} expect", "warnings", $"unknown warning \"{unknown}\"");
            foreach (var (field, value) in step.Op.Fields())
                if (field == "as" && value is not null) bound.Add(value);
        }
        return null;
    }
}
