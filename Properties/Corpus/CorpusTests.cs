using IommuConformance.Harness.Core.Json;
using IommuConformance.Harness.Iommu.Traces;
using Xunit;

namespace IommuConformance.Properties.Corpus;

/// <summary>
/// The regression corpus: every trace under corpus/ replays conformant with its own machine and bugs (a trace
/// moved there from reports/failures/ fails here until its failure is mended or its bug is off). A theory over the
/// files rather than one [Fact] each, so that adding a regression is moving a file; started first by
/// <see cref="CorpusFirst"/>.
/// </summary>
[Collection(CorpusFirst.Collection)]
public sealed class CorpusTests
{
    public static TheoryData<string> Files() => [.. CorpusFiles.All().Select(f => Path.GetRelativePath(CorpusFiles.Root, f))];

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_corpus_trace_replays_conformant(string name) =>
        CorpusReplay.AssertConformant(TraceJson.ReadFile(Path.Combine(CorpusFiles.Root, name)), $"corpus/{name}");

    [Fact]
    public void The_corpus_is_not_empty() => Assert.NotEmpty(CorpusFiles.All());

    [Fact]
    public void A_trace_of_another_format_version_is_refused_naming_it()
    {
        var old = File.ReadAllText(CorpusFiles.All().First()).Replace(Trace.Format, "iommu-conformance-trace/0", StringComparison.Ordinal);
        var e = Assert.Throws<TraceFormatException>(() => TraceJson.Read(old));
        Assert.Contains("iommu-conformance-trace/0", e.Message);
        Assert.Contains(Trace.Format, e.Message);
    }

    [Fact]
    public void A_corpus_trace_with_its_seeded_bug_on_fails()
    {
        // The corpus holds the shrunk failures of the seeded bugs, replayed with the bug off; switched back on they fail.
        var bugs = CorpusFiles.All().Select(f => (File: f, Trace: TraceJson.ReadFile(f)))
            .Where(t => t.Trace.Title.StartsWith("regression: seeded bug ", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(bugs);
        foreach (var (file, trace) in bugs)
        {
            var bug = trace.Title["regression: seeded bug ".Length..].Split('\'')[0];
            Assert.False(Harness.Iommu.Execution.Executor.Run(trace with { Bugs = [bug] }).Conformant, $"{file} with {bug} on");
        }
    }
}
