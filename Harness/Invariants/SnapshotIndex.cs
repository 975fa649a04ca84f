using IommuConformance.Implementations;

namespace IommuConformance.Harness.Invariants;

/// <summary>Lookups over one snapshot, built once per step and shared by every check. Duplicate ids keep the first.</summary>
public sealed class SnapshotIndex
{
    public SnapshotIndex(SystemSnapshot snapshot)
    {
        Snapshot = snapshot;
        foreach (var d in snapshot.Devices) Devices.TryAdd(d.Name, d);
        foreach (var g in snapshot.Groups) Groups.TryAdd(g.Id, g);
        foreach (var d in snapshot.Domains) Domains.TryAdd(d.Id, d);
    }

    public SystemSnapshot Snapshot { get; }
    public Dictionary<string, DeviceSnapshot> Devices { get; } = new(StringComparer.Ordinal);
    public Dictionary<int, GroupSnapshot> Groups { get; } = [];
    public Dictionary<int, DomainSnapshot> Domains { get; } = [];

    public DomainSnapshot? Domain(int? id) => id is { } i ? Domains.GetValueOrDefault(i) : null;

    /// <summary>How a domain's name reads in messages: <c>#7 DMA-FQ "d1"</c>.</summary>
    public string Describe(int? id) => id switch
    {
        null => "none",
        { } i when Domains.TryGetValue(i, out var d) => d.Handle is null ? $"#{i} {d.Type}" : $"#{i} {d.Type} \"{d.Handle}\"",
        { } i => $"#{i} (not live)",
    };

    public static string Describe(HwContext context) => context.Kind switch
    {
        HwContextKind.Translate => $"translate(#{context.DomainId})",
        _ => context.Kind.ToString().ToLowerInvariant(),
    };
}
