using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using Xunit;

namespace IommuConformance.Properties.Corpus;

/// <summary>
/// Replays a regression trace as <c>replay</c> does, with the trace's own machine and seeded bugs, no generator
/// involved: it must be conformant. The [Fact]s the Runner writes beside each saved failure call this.
/// </summary>
public static class CorpusReplay
{
    /// <summary>The trace in <paramref name="json"/> replays conformant; else the step table and the problem.</summary>
    public static void AssertConformant(string json) => AssertConformant(TraceJson.Read(json), "trace");

    public static void AssertConformant(Trace trace, string name)
    {
        var report = Executor.Run(trace);
        Assert.True(report.Conformant,
            $"{name} ({trace.Title}{(trace.Bugs.IsEmpty ? "" : ", bugs: " + string.Join(", ", trace.Bugs))}) does not replay conformant:\n"
            + StepTable.Render(report) + report.Problem?.Message);
    }
}
