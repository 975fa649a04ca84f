using System.Collections.Frozen;
using IommuConformance.Contract;

namespace IommuConformance.Harness.Traces;

/// <summary>What a step's argument is, which decides how it is read and validated.</summary>
internal enum ArgKind
{
    /// <summary><c>dev</c>: a device of the topology.</summary>
    Device,
    /// <summary><c>domain</c>: a handle bound by an earlier step's <c>as</c>.</summary>
    Domain,
    /// <summary><c>as</c>: binds a handle name.</summary>
    Binding,
    /// <summary><c>owner</c>: present, a string or null (the NULL owner).</summary>
    Owner,
    /// <summary>A free string answered by the contract (e.g. the sysfs <c>type</c>: bad values are EINVAL, not malformed).</summary>
    Text,
    /// <summary><c>flags</c>: optional, one of <see cref="AllocFlags"/>.</summary>
    Flags,
    /// <summary><c>bus</c>: one of <see cref="BusNames"/>.</summary>
    Bus,
}

internal sealed record ArgSpec(string Field, ArgKind Kind);

/// <summary>One operation of the vocabulary: its trace name, its arguments in canonical order, and its record.</summary>
internal sealed record OpShape(string Name, ArgSpec[] Args, Func<Func<string, string?>, Operation> Build);

/// <summary>
/// The parse table: one entry per Operation record of the contract. The field names are those of
/// <see cref="Operation.Fields"/>, so that what the writer emits is exactly what the reader accepts.
/// </summary>
internal static class OperationShapes
{
    private static readonly ArgSpec Dev = new("dev", ArgKind.Device);
    private static readonly ArgSpec Domain = new("domain", ArgKind.Domain);
    private static readonly ArgSpec As = new("as", ArgKind.Binding);
    private static readonly ArgSpec Owner = new("owner", ArgKind.Owner);
    private static readonly ArgSpec Type = new("type", ArgKind.Text);
    private static readonly ArgSpec Flags = new("flags", ArgKind.Flags);

    public static readonly IReadOnlyList<string> KnownFlags = [AllocFlags.DirtyTracking];

    public static readonly IReadOnlyList<OpShape> All =
    [
        new("probe", [Dev], a => new Probe(a("dev")!)),
        new("bus_probe", [new("bus", ArgKind.Bus)], a => new BusProbe(a("bus")!)),
        new("release", [Dev], a => new Release(a("dev")!)),
        new("get_domain", [Dev], a => new GetDomain(a("dev")!)),
        new("group_type_read", [Dev], a => new GroupTypeRead(a("dev")!)),
        new("group_type_write", [Dev, Type], a => new GroupTypeWrite(a("dev")!, a("type")!)),
        new("domain_alloc_paging", [Dev, As, Flags], a => new DomainAllocPaging(a("dev")!, a("as")!, a("flags"))),
        new("domain_free", [Domain], a => new DomainFree(a("domain")!)),
        new("attach_device", [Domain, Dev], a => new AttachDevice(a("domain")!, a("dev")!)),
        new("detach_device", [Domain, Dev], a => new DetachDevice(a("domain")!, a("dev")!)),
        new("attach_group", [Domain, Dev], a => new AttachGroup(a("domain")!, a("dev")!)),
        new("detach_group", [Domain, Dev], a => new DetachGroup(a("domain")!, a("dev")!)),
        new("driver_bind", [Dev], a => new DriverBind(a("dev")!)),
        new("driver_unbind", [Dev], a => new DriverUnbind(a("dev")!)),
        new("claim_dma_owner", [Dev, Owner], a => new ClaimDmaOwner(a("dev")!, a("owner"))),
        new("release_dma_owner", [Dev], a => new ReleaseDmaOwner(a("dev")!)),
        new("claim_group_dma_owner", [Dev, Owner], a => new ClaimGroupDmaOwner(a("dev")!, a("owner"))),
        new("release_group_dma_owner", [Dev], a => new ReleaseGroupDmaOwner(a("dev")!)),
    ];

    public static readonly FrozenDictionary<string, OpShape> ByName = All.ToFrozenDictionary(s => s.Name);

    /// <summary>The same operation with each argument passed through <paramref name="map"/> (field, value) → value.</summary>
    public static Operation Rebuild(Operation op, Func<string, string?, string?> map)
    {
        var values = op.Fields().ToDictionary(f => f.Field, f => f.Value, StringComparer.Ordinal);
        return ByName[op.Name].Build(field => map(field, values.GetValueOrDefault(field)));
    }

    /// <summary>Reads the arguments of one step (the <c>op</c> field has been read) and builds the operation.</summary>
    public static Operation Parse(OpShape shape, JsonFields fields)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var arg in shape.Args)
        {
            values[arg.Field] = arg.Kind switch
            {
                ArgKind.Owner => fields.NullableString(arg.Field),
                ArgKind.Flags => fields.OptionalString(arg.Field),
                _ => fields.String(arg.Field),
            };
            if (arg.Kind == ArgKind.Flags && values[arg.Field] is { } flag && !KnownFlags.Contains(flag))
                throw fields.Fail(arg.Field, $"unknown flag \"{flag}\"; known: {string.Join(", ", KnownFlags)}");
        }
        return shape.Build(field => values[field]);
    }
}
