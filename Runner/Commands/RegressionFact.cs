using System.Text;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// The ready-to-paste xunit test of a saved failure: a <c>[Fact]</c> that replays the trace, embedded as a raw
/// string, with the trace's own machine and bugs, through <c>CorpusReplay.AssertConformant</c>
/// (Properties/Corpus). It fails while the failure is there and passes once it is mended (or its bug is off).
/// </summary>
internal static class RegressionFact
{
    public const string Extension = ".fact.cs";

    public static string For(string name, string traceJson, string origin)
    {
        // A raw string literal needs a delimiter longer than any run of quotes in its content.
        var longestRun = 0;
        var run = 0;
        foreach (var c in traceJson)
        {
            run = c == '"' ? run + 1 : 0;
            longestRun = Math.Max(longestRun, run);
        }
        var quotes = new string('"', Math.Max(3, longestRun + 1));
        var text = new StringBuilder()
            .AppendLine($"// Regression test of {origin}.")
            .AppendLine("// Paste into a test class of Properties/Corpus/ (or move the .json beside this file into corpus/,")
            .AppendLine("// where CorpusTests replays every trace before the random cases).")
            .AppendLine("[Fact]")
            .AppendLine($"public void Regression_{Identifier(name)}() => CorpusReplay.AssertConformant({quotes}")
            .AppendLine(traceJson.TrimEnd())
            .AppendLine($"{quotes});");
        return text.ToString();
    }

    /// <summary>A C# identifier from a file name stem: letters, digits and underscores.</summary>
    public static string Identifier(string name) =>
        string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));
}
