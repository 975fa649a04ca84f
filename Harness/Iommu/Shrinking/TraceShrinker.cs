using IommuConformance.Harness.Core.Shrinking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>
/// The trace shrinker: the generic passes of <see cref="ShrinkPasses"/> with this machine's inserted. In order: cut
/// everything after the failing step; delete chunks of steps, large to small, from the back; delete a handle's
/// lifecycle; turn a PASID replace into a detach and a user domain's round trip into a sysfs type change; delete a
/// device; let one device stand in for another; simplify arguments by kind; simplify the machine; finally give
/// devices and handles a canonical spelling. Every candidate is repaired into a valid trace.
/// </summary>
public static class TraceShrinker
{
    public static readonly CaseShrinker<Trace> Shrinker = new(
    [
        ShrinkPasses.CutAfterFailure<Trace>(),
        ShrinkPasses.DeleteChunks<Trace>(),
        ShrinkPasses.DeleteHandleLifecycles<Trace>(),
        ShrinkPasses.MergeHandles<Trace>(),
        ShrinkPass<Trace>.Of("a PASID replace into a detach", PasidShrinks.ReplaceToDetach),
        ShrinkPass<Trace>.Of("a user domain's round trip into a type change", DomainShrinks.RoundTripToTypeChange),
        ShrinkPass<Trace>.Of("delete a device", LifecycleShrinks.DeleteDevices),
        ShrinkPass<Trace>.Of("merge two devices", LifecycleShrinks.MergeDevices),
        ShrinkPass<Trace>.Of("probes of a bus into one bus probe", LifecycleShrinks.ProbesToBusProbe),
        ShrinkPass<Trace>.Of("a bus probe into one device's probe", LifecycleShrinks.BusProbeToProbe),
        ShrinkPasses.SimplifyArguments<Trace>(),
        ShrinkPass<Trace>.Of("simplify the machine", TopologyShrinks.Simplify),
        ShrinkPass<Trace>.Of("canonical names", NameNormalizer.Candidates),
    ], TraceRepair.Repair);

    /// <summary>Candidates for a trace whose failing run took <paramref name="failingSteps"/> steps (null: unknown, no cut).</summary>
    public static IEnumerable<Trace> Shrink(Trace trace, int? failingSteps) => Shrinker.Shrink(trace, failingSteps);

    /// <summary>Candidates for a trace on its own: runs it first to learn where it fails (the property runner knows).</summary>
    public static IEnumerable<Trace> Shrink(Trace trace)
    {
        var report = Executor.Run(trace);
        foreach (var candidate in Shrinker.Shrink(trace, report.Conformant ? null : report.Steps.Length))
            yield return candidate;
    }
}
