using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.HardwareQueues;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>What one seeded bug's property run found; <paramref name="ShrinkElapsed"/> runs from the first failure to the end.</summary>
internal sealed record HuntOutcome(bool Found, int Tests, int Shrinks, TimeSpan Elapsed, ShrunkFailure? Failure)
{
    /// <summary>How long the first failing trace was, before shrinking.</summary>
    public int? FirstFailureSteps { get; init; }

    public TimeSpan ShrinkElapsed { get; init; }

    /// <summary>Steps run with their checks, generation and shrinking.</summary>
    public long Steps { get; init; }
}

internal static class HuntCall
{
    public static HuntOutcome Hunt(string bug, CheckSettings settings)
    {
        var result = PropertyCheck.Hunt(bug, settings);
        return new HuntOutcome(result.Failed, result.Tests, result.Shrinks, result.Elapsed,
            result.Shrunk is { } failure ? new ShrunkFailure(failure) : null)
        {
            FirstFailureSteps = result.FirstFailureSteps,
            ShrinkElapsed = result.ShrinkElapsed,
            Steps = result.StepsChecked,
        };
    }

    /// <summary>An emulator bug: the command-stream property with it on; the shrunk stream's actions count as steps.</summary>
    public static (HuntOutcome Outcome, CmdqVerdict? Shrunk) HuntQueue(string bug, CheckSettings settings)
    {
        var result = CmdqProperty.Check(settings, bug);
        return (new HuntOutcome(result.Failed, result.Tests, result.Shrinks, result.Elapsed, null), result.Shrunk);
    }
}
