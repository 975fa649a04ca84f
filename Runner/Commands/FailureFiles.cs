using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;

namespace IommuConformance.Runner.Commands;

/// <summary>Where a shrunk failure goes: reports/failures/NAME.json, with the model's outcomes as expects.</summary>
public static class FailureFiles
{
    public static string Save(string outDir, string name, RunReport failure)
    {
        var dir = Path.Combine(outDir, "failures");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name + ".json");
        File.WriteAllText(path, TraceJson.Write(TraceJson.WithModelExpects(failure)));
        return path;
    }

    public static string Describe(RunReport failure, string savedFile, CheckSettings settings) =>
        FailurePrinter.Print(failure, $"{CheckSettings.SeedVariable}={settings.Replay} (rerun the campaign)", savedFile);
}
