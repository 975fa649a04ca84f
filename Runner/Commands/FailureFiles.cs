using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// Where a shrunk failure goes: DIR/failures/NAME.json, with the model's outcomes as expects, and beside it
/// NAME.fact.cs, the xunit [Fact] that replays it (<see cref="RegressionFact"/>); both written atomically.
/// </summary>
internal static class FailureFiles
{
    /// <summary>Saves a failure shrunk in this process, titled by its <paramref name="origin"/>.</summary>
    public static string Save(string outDir, string name, ShrunkFailure failure, string origin) =>
        Save(outDir, name, failure.ToJson($"{origin}, shrunk"), origin);

    public static string Save(string outDir, string name, string json, string origin)
    {
        var dir = Path.Combine(outDir, OutDirectory.FailuresFolder);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name + ".json");
        OutDirectory.WriteAtomically(path, json);
        OutDirectory.WriteAtomically(Path.Combine(dir, name + RegressionFact.Extension), RegressionFact.For(name, json, origin));
        return path;
    }
}
