using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>What one seeded bug's property run found.</summary>
internal sealed record HuntOutcome(bool Found, int Tests, int Shrinks, TimeSpan Elapsed, ShrunkFailure? Failure);

internal static class HuntCall
{
    public static HuntOutcome Hunt(string bug, CheckSettings settings)
    {
        var result = PropertyCheck.Hunt(bug, settings);
        return new HuntOutcome(result.Failed, result.Tests, result.Shrinks, result.Elapsed,
            result.Shrunk is { } failure ? new ShrunkFailure(failure) : null);
    }
}
