using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>A shrunk failing run, opaque to the commands: its length, its replayable JSON, its printed explanation.</summary>
internal sealed class ShrunkFailure
{
    private readonly RunReport _report;

    internal ShrunkFailure(RunReport report) => _report = report;

    public int Steps => _report.Trace.Steps.Length;

    /// <summary>
    /// The trace with the model's outcomes as <c>expect</c>s, titled <paramref name="title"/> (where it came from): a
    /// file that <c>replay</c> fails the same way.
    /// </summary>
    public string ToJson(string title) => TraceJson.Write(TraceJson.WithModelExpects(_report) with { Title = title });

    /// <summary>The step table, what differs, the reproduce line and the saved file.</summary>
    public string Describe(string reproduce, string savedFile) => FailurePrinter.Print(_report, reproduce, savedFile);
}
