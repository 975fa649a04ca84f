using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>
/// Candidates for a smaller failing trace, best first. FsCheck keeps the first candidate that still fails and
/// asks again, so the order is the strategy: cut everything after the failing step; delete chunks of steps,
/// large to small, from the back; delete whole object lifecycles (a handle, a device) or let one device stand
/// in for another; simplify arguments;
/// simplify the machine; finally give names a canonical spelling. Every candidate is a valid trace.
/// </summary>
public static class TraceShrinker
{
    public static IEnumerable<Trace> Shrink(Trace trace)
    {
        var seen = new HashSet<string> { Key(trace) };
        foreach (var candidate in Candidates(trace))
        {
            var repaired = TraceRepair.Repair(candidate);
            if (seen.Add(Key(repaired)))
                yield return repaired;
        }
    }

    private static IEnumerable<Trace> Candidates(Trace trace)
    {
        var report = Executor.Run(trace);
        if (!report.Conformant && report.Steps.Length < trace.Steps.Length)
            yield return trace.WithSteps(trace.Steps.Take(report.Steps.Length));
        foreach (var t in DeleteChunks(trace)) yield return t;
        foreach (var t in LifecycleShrinks.DeleteHandles(trace)) yield return t;
        foreach (var t in LifecycleShrinks.DeleteDevices(trace)) yield return t;
        foreach (var t in LifecycleShrinks.MergeDevices(trace)) yield return t;
        foreach (var t in ArgumentShrinks.Simplify(trace)) yield return t;
        foreach (var t in TopologyShrinks.Simplify(trace)) yield return t;
        var normal = NameNormalizer.Normalize(trace);
        if (!normal.Equals(trace)) yield return normal;
    }

    /// <summary>Delete runs of n/2, n/4, ..., 1 steps, starting at the back, where irrelevant steps pile up.</summary>
    private static IEnumerable<Trace> DeleteChunks(Trace trace)
    {
        var n = trace.Steps.Length;
        for (var size = n / 2; size >= 1; size /= 2)
            for (var end = n; end > 0; end -= size)
            {
                var start = Math.Max(0, end - size);
                yield return trace.WithSteps(trace.Steps.Take(start).Concat(trace.Steps.Skip(end)));
            }
    }

    /// <summary>A cheap identity for de-duplicating candidates: the step list and the machine, as text.</summary>
    private static string Key(Trace trace) =>
        string.Join(";", trace.Steps.Select(s => s.Op.ToString())) + "|" + trace.Config + "|"
        + string.Join(",", trace.Topology.Iommus) + string.Join(",", trace.Topology.Devices);
}
