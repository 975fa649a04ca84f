namespace IommuConformance.Properties.Corpus;

/// <summary>The tracked regression corpus (corpus/*.json), copied next to the tests by Properties.csproj.</summary>
internal static class CorpusFiles
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "corpus");

    public static IEnumerable<string> All() =>
        Directory.Exists(Root) ? Directory.GetFiles(Root, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : [];
}
