using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Printing;

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
