using System.Text;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Invariants;

/// <summary>
/// A canonical text of a snapshot: one JSON line per device, group and domain, in the snapshot's (sorted) order.
/// Two snapshots of the same state give the same lines. Built only around failed steps: it allocates.
/// </summary>
public static class SnapshotText
{
    public static IReadOnlyList<string> Lines(SystemSnapshot snapshot)
    {
        var lines = new List<string>(snapshot.Devices.Length + snapshot.Groups.Length + snapshot.Domains.Length + 1);
        foreach (var d in snapshot.Devices)
            lines.Add($"{{\"device\": {Q(d.Name)}, \"iommu\": {Q(d.Iommu)}, \"group\": {N(d.GroupId)}, \"bound\": {B(d.DriverBound)}, "
                + $"\"context\": {Q(SnapshotIndex.Describe(d.Context))}}}");
        foreach (var g in snapshot.Groups)
            lines.Add($"{{\"group\": {g.Id}, \"iommu\": {Q(g.Iommu)}, \"key\": {Q(g.Key)}, \"members\": [{string.Join(", ", g.Members.Select(m => Q(m)))}], "
                + $"\"domain\": {N(g.DomainId)}, \"default\": {N(g.DefaultDomainId)}, \"blocking\": {N(g.BlockingDomainId)}, "
                + $"\"owner\": {Q(g.Owner)}, \"ownerCount\": {g.OwnerCount}, \"refCount\": {g.RefCount}}}");
        foreach (var d in snapshot.Domains)
            lines.Add($"{{\"domain\": {d.Id}, \"type\": {Q(d.Type)}, \"driver\": {Q(d.Driver)}, \"ownerDriver\": {Q(d.OwnerDriver)}, "
                + $"\"iommu\": {Q(d.Iommu)}, \"static\": {B(d.IsStatic)}, \"handle\": {Q(d.Handle)}}}");
        foreach (var e in snapshot.HardwareErrors)
            lines.Add($"{{\"hardwareError\": {Q(e)}}}");
        return lines;
    }

    public static string Json(SystemSnapshot snapshot)
    {
        var text = new StringBuilder("[\n");
        var lines = Lines(snapshot);
        for (var i = 0; i < lines.Count; i++) text.Append("  ").Append(lines[i]).Append(i + 1 < lines.Count ? ",\n" : "\n");
        return text.Append("]\n").ToString();
    }

    private static string Q(string? s) => s is null ? "null" : Traces.TraceWriter.Quote(s);
    private static string N(int? n) => n?.ToString() ?? "null";
    private static string B(bool b) => b ? "true" : "false";
}
