namespace IommuConformance.Properties.HarnessTests;

/// <summary>The repository's sample traces, copied next to the tests under traces/ by Properties.csproj.</summary>
internal static class SampleFiles
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "traces");

    /// <summary>traces/*.json that replay green (everything but expect-mismatch.json).</summary>
    public static IEnumerable<string> Green() =>
        Directory.GetFiles(Root, "*.json").Where(f => Path.GetFileName(f) != "expect-mismatch.json").Order();

    public static IEnumerable<string> Bugs() => Directory.GetFiles(Path.Combine(Root, "bugs"), "*.json").Order();

    public static IEnumerable<string> Malformed() => Directory.GetFiles(Path.Combine(Root, "malformed"), "*.json").Order();

    public static IEnumerable<string> Replayable() => Directory.GetFiles(Root, "*.json").Concat(Bugs()).Order();
}
