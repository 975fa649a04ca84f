using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using IommuConformance.Properties.Support;

namespace IommuConformance.Properties.Conformance;

/// <summary>A random history, then the caller loop for one of its devices (picked by index).</summary>
public sealed record LoopCase(Trace Prefix, int Pick)
{
    public string Device =>
        Prefix.Topology.Devices.IsEmpty ? "(none)" : Prefix.Topology.Devices[Pick % Prefix.Topology.Devices.Length].Name;

    public override string ToString() => $"caller loop for {Device} after {Prefix.Steps.Length} steps";
}

/// <summary>
/// The attach contract as its own property (kernel-semantics b.6, c.22): after any history, "try each
/// existing domain, move on only on -EINVAL, then allocate a fresh one" always ends attached.
/// </summary>
public sealed class AttachContractProperties
{
    public static Arbitrary<LoopCase> Cases(TraceGenSettings settings) =>
        Arb.From(
            from prefix in TraceGen.Trace(settings)
            from pick in Gen.Choose(0, 7)
            select new LoopCase(prefix, pick),
            c => TraceShrinker.Shrink(c.Prefix).Where(p => p.Topology.Devices.Length > 0).Select(p => c with { Prefix = p }));

    /// <summary>The run of a case: its prefix and loop on model and implementation; vacuous if the device cannot be probed.</summary>
    public static RunReport? Run(LoopCase c) =>
        c.Prefix.Topology.Devices.Length > 0 && AttachContract.WithCallerLoop(c.Prefix, c.Device) is { } trace
            ? Executor.Run(trace)
            : null;

    [ConformanceProperty]
    public Property Caller_loop_always_ends_attached() =>
        Prop.ForAll(Cases(TraceGenSettings.Default), (LoopCase c) =>
        {
            if (Run(c) is { } report) ConformanceFailure.ThrowIfFailed(report);
        });
}
