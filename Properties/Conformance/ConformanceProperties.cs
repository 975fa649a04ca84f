using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using IommuConformance.Properties.Support;

namespace IommuConformance.Properties.Conformance;

/// <summary>
/// Sequential conformance: random machines and random operation sequences, run on the model and the
/// implementation; every outcome (errno, value, warnings) must be equal and every structural invariant of
/// kernel-semantics §c must hold after every step. A failure is shrunk and printed as a table plus JSON.
/// </summary>
public sealed class ConformanceProperties
{
    [ConformanceProperty]
    public Property Random_traces_conform_step_by_step() =>
        Prop.ForAll(TraceGen.Arbitrary(TraceGenSettings.Default), (Trace trace) =>
            ConformanceFailure.ThrowIfFailed(Executor.Run(trace)));
}

/// <summary>
/// The structural invariants alone (kernel-semantics §c: c.1–c.4, c.6–c.10, c.19, c.22) on the implementation after
/// every step, without comparing outcomes with the model: what the hardware and the core's bookkeeping must
/// never show, whatever the operations answered.
/// </summary>
public sealed class InvariantProperties
{
    [ConformanceProperty]
    public Property Structural_invariants_hold_after_every_step() =>
        Prop.ForAll(TraceGen.Arbitrary(TraceGenSettings.Default), (Trace trace) =>
            ConformanceFailure.ThrowIfFailed(Executor.Run(trace, ExecutorChecks.Invariants)));
}
