using IommuConformance.Properties.Support;
using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Properties.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace IommuConformance.Properties.Bugs;

/// <summary>
/// The suite can fail: for every seeded bug, the default property run (same generator, same size, same seed)
/// with that one bug switched on must find a failure and shrink it to at most the bug's documented length.
/// Category <see cref="TestCategories.BugHunt"/>: CI runs these outside the coverage run (scripts/coverage.sh).
/// </summary>
[Trait("Category", TestCategories.BugHunt)]
public sealed class SeededBugTests(ITestOutputHelper output)
{
    public static TheoryData<string> BugNames() => [.. BugCatalogue.All.Select(b => b.Name)];

    [Theory]
    [MemberData(nameof(BugNames))]
    public void Default_property_run_finds_and_shrinks(string bug)
    {
        var documented = BugCatalogue.All.Single(b => b.Name == bug);
        var result = PropertyCheck.Hunt(bug, CheckSettings.Default);

        Assert.True(result.Failed, $"{bug}: {result.Tests} traces found nothing");
        var shrunk = Assert.IsType<RunReport>(result.Shrunk);
        output.WriteLine($"{bug}: found after {result.Tests} traces, {result.FirstFailureSteps} steps; {result.Shrinks} shrinks, "
            + $"{shrunk.Trace.Steps.Length} steps (documented {documented.MinimalSteps}); shrinking took "
            + $"{result.ShrinkElapsed.TotalMilliseconds:F1} ms, {result.Shrinking}");
        output.WriteLine(shrunk.Problem?.Message ?? "");
        Assert.True(shrunk.Trace.Steps.Length <= documented.MinimalSteps,
            $"{bug}: shrunk to {shrunk.Trace.Steps.Length} steps, documented minimum {documented.MinimalSteps}:\n{shrunk.Problem}");
    }

    public static TheoryData<string> HardwareLayerDrivers() =>
        [.. BugCatalogue.All.Where(b => b.Drivers is not null).SelectMany(b => b.Drivers!).Distinct()];

    /// <summary>
    /// A hunt's find is the bug's, not a disagreement of its settings: the settings a hardware-layer bug is hunted with
    /// (memory operations, machines of its driver), with no bug on, find nothing in the same run.
    /// </summary>
    [Theory]
    [MemberData(nameof(HardwareLayerDrivers))]
    public void Hunt_settings_of_a_driver_find_nothing_without_a_bug(string driver)
    {
        var settings = TraceGenSettings.Default with { MemoryOps = true, Drivers = [driver], RequireDirect = false };
        var result = PropertyCheck.Run(TraceGen.Arbitrary(settings), CheckSettings.Default, ExecutorChecks.All);

        Assert.False(result.Failed, $"{driver}: trace {result.Tests}: {result.Shrunk?.Problem}\n{result.Shrunk?.Trace}");
        output.WriteLine($"{driver}: {result.Tests} traces, nothing found");
    }

    /// <summary>
    /// The settings of a bug of vtd's scalable mode (every vtd unit scalable, the PASID rules in focus), with no bug on,
    /// find nothing either: a PASID-tagged DMA and its teardown agree on both sides.
    /// </summary>
    [Fact]
    public void Scalable_pasid_hunt_settings_find_nothing_without_a_bug()
    {
        var settings = HuntSettings.For(BugCatalogue.PasidTeardownSkipsPcInv) with { Bugs = [] };
        Assert.True(settings.PasidFocus);
        Assert.Equal(1, settings.ScalableShare);
        var result = PropertyCheck.Run(TraceGen.Arbitrary(settings), CheckSettings.Default, ExecutorChecks.All);

        Assert.False(result.Failed, $"trace {result.Tests}: {result.Shrunk?.Problem}\n{result.Shrunk?.Trace}");
        output.WriteLine($"scalable vtd, PASID focus: {result.Tests} traces, nothing found");
    }

    [Fact]
    public void A_hardware_layer_bug_is_hunted_with_memory_operations_on_its_drivers_machines()
    {
        var settings = HuntSettings.For(BugCatalogue.RangeInvalFirstPage);
        Assert.True(settings.MemoryOps);
        Assert.Equal(["smmuv3"], settings.MachineDrivers);
        Assert.False(settings.RequireDirect);
        var core = HuntSettings.For(BugCatalogue.FreshDomainEinval); // a core bug is hunted with the default run's settings
        Assert.True(core.Drivers.IsDefaultOrEmpty && core.RequireDirect && core.MemoryOps == TraceGenSettings.Default.MemoryOps);
    }

    /// <summary>Bugs whose damage is in state, not in answers: the invariants alone must catch them.</summary>
    [Theory]
    [InlineData("claim_owner_null_leaks_group")]
    [InlineData("release_frees_domains_before_driver_release")]
    [InlineData("hot_add_skips_owned_group_attach")]
    [InlineData("no_owner_gatekeeper")]
    [InlineData("default_domain_replace_leaks_old")]
    public void Invariant_property_alone_finds(string bug)
    {
        var result = PropertyCheck.Hunt(bug, CheckSettings.Default, ExecutorChecks.Invariants);

        Assert.True(result.Failed, $"{bug}: {result.Tests} traces found nothing");
        Assert.Equal(ProblemKind.Invariant, result.Shrunk?.Problem?.Kind);
        output.WriteLine($"{bug}: {result.Shrunk?.Trace.Steps.Length} steps: {result.Shrunk?.Problem}");
    }

    /// <summary>The observation check alone (get_domain, group_type_read of every device after every step).</summary>
    [Fact]
    public void Observations_alone_see_a_wrong_default_type_right_after_the_probe()
    {
        var result = PropertyCheck.Hunt("untrusted_not_forced_dma", CheckSettings.Default, ExecutorChecks.Observations);

        Assert.True(result.Failed);
        Assert.Equal(1, result.Shrunk?.Trace.Steps.Length);
        Assert.Contains("observed after the step by group_type_read", result.Shrunk?.Problem?.Message ?? "");
    }

    [Fact]
    public void Attach_contract_property_catches_a_fresh_domain_answering_einval()
    {
        var result = PropertyCheck.Run(
            AttachContractProperties.Cases(TraceGenSettings.WithBug("fresh_domain_einval")),
            CheckSettings.Default, AttachContractProperties.Run);

        Assert.True(result.Failed);
        Assert.Contains("EINVAL", result.Shrunk?.Problem?.Message ?? "");
    }
}
