using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Shrinking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The harness on what it really handles, generated traces: the same seed gives the same traces and the same
/// verdict; every generated trace survives JSON; every shrink candidate is a valid, replayable trace.
/// </summary>
public sealed class GeneratedTraceTests
{
    /// <summary><paramref name="count"/> traces at FsCheck size <paramref name="size"/> (Gen.Sample takes the count first).</summary>
    private static Trace[] Sample(ulong seed, int count = 60, int size = 60) =>
        Gen.Sample(TraceGen.Trace(TraceGenSettings.Default), count, new Rnd(seed, 0x9E3779B97F4A7C15UL), size);

    [Fact]
    public void The_same_seed_gives_the_same_traces()
    {
        Assert.Equal(Sample(7), Sample(7));
        Assert.NotEqual(Sample(7), Sample(8));
    }

    [Fact]
    public void The_same_seed_gives_the_same_verdict_and_the_same_shrunk_trace()
    {
        CheckResult Hunt() => PropertyCheck.Hunt("attach_group_replaces_user_domain", CheckSettings.Default);
        var first = Hunt();
        var second = Hunt();
        Assert.True(first.Failed);
        Assert.Equal((first.Tests, first.Shrinks), (second.Tests, second.Shrinks));
        Assert.Equal(TraceJson.Write(first.Shrunk!.Trace), TraceJson.Write(second.Shrunk!.Trace));
    }

    [Fact]
    public void Every_generated_trace_round_trips_through_json()
    {
        foreach (var trace in Sample(11))
            Assert.Equal(trace, TraceJson.Read(TraceJson.Write(trace)));
    }

    [Fact]
    public void Every_shrink_candidate_is_a_valid_trace_no_longer_than_its_parent()
    {
        foreach (var trace in Sample(13, 60, size: 15))
            foreach (var candidate in TraceShrinker.Shrink(trace).Take(200))
            {
                Assert.True(TraceValidator.IsValid(candidate), TraceValidator.FindProblem(candidate)?.Message);
                Assert.True(candidate.Steps.Length <= trace.Steps.Length);
                Assert.NotEqual(trace, candidate);
            }
    }

    [Fact]
    public void Name_normalisation_is_idempotent_and_keeps_the_verdict()
    {
        foreach (var trace in Sample(17, 60, size: 30))
        {
            var normal = NameNormalizer.Normalize(trace);
            Assert.Equal(normal, NameNormalizer.Normalize(normal));
            Assert.Equal(Executor.Run(trace).Verdict, Executor.Run(normal).Verdict);
        }
    }
}
