using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>Where a shrunk failure goes: DIR/failures/NAME.json, with the model's outcomes as expects.</summary>
internal static class FailureFiles
{
    public static string Save(string outDir, string name, ShrunkFailure failure)
    {
        var dir = Path.Combine(outDir, OutDirectory.FailuresFolder);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name + ".json");
        OutDirectory.WriteAtomically(path, failure.ToJson());
        return path;
    }
}
