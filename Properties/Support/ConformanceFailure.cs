using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Execution;
using IommuConformance.Harness.Printing;

namespace IommuConformance.Properties.Support;

/// <summary>Thrown by a property body for a failing run; FsCheck prints its message for the shrunk trace.</summary>
public sealed class ConformanceFailure(RunReport report)
    : Exception(FailurePrinter.Print(report, $"{CheckSettings.SeedVariable}={CheckSettings.Default.Replay} dotnet test"))
{
    public RunReport Report { get; } = report;

    /// <summary>Passes a conformant run, throws for any other.</summary>
    public static void ThrowIfFailed(RunReport report)
    {
        if (!report.Conformant) throw new ConformanceFailure(report);
    }
}
