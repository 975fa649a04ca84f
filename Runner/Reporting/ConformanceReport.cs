using System.Globalization;
using IommuConformance.Runner.Commands;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Reporting;

/// <summary>
/// The conformance report (DIR/conformance.md and .html): the campaign's verdict and seed, operations × outcomes
/// with a chart and the pairs never produced, invariants and how often they were evaluated, the scenarios run, the
/// seeded-bug hunt with a chart, the coverage summary. Sections whose input is missing say how to make it.
/// </summary>
internal static class ConformanceReport
{
    public const string MarkdownFile = "conformance.md";
    public const string HtmlFile = "conformance.html";
    public const string OutcomesChart = "conformance.outcomes.png";
    public const string HuntChart = "conformance.hunt.png";

    public static IReadOnlyList<Block> Build(ReportData data, (string Seed, IReadOnlyList<HuntRow> Rows)? hunt, CoverageSummary? coverage, IReadOnlyList<string> notes)
    {
        var blocks = new List<Block>
        {
            new Heading(1, "IOMMU core conformance report"),
            new Paragraph(data.Failed
                ? "Verdict: DIVERGED — the implementation differs from the reference model (shrunk failures below)."
                : "Verdict: conformant — every step of every trace agreed with the reference model and kept every invariant."),
            new Paragraph($"Seed of the run: {data.Replay} (rerun: dotnet run --project Runner -c Release -- campaign --seed {data.Replay})."),
            new Table(["figure", "value"], [.. data.Figures.Select(f => (IReadOnlyList<string>)[f.Name, f.Value.Replace("`", "", StringComparison.Ordinal)])], new HashSet<int>()),
        };
        blocks.AddRange(notes.Select(n => new Paragraph($"Note: {n}")));
        Outcomes(blocks, data);
        Invariants(blocks, data);
        Scenarios(blocks, data);
        Hunt(blocks, hunt);
        Coverage(blocks, coverage);
        if (data.Shrunk.Count > 0)
        {
            blocks.Add(new Heading(2, "Shrunk failures"));
            blocks.Add(new Paragraph("Each is saved as failures/campaign-SEED-tN.json with a ready-to-paste [Fact] (failures/*.fact.cs)."));
            blocks.Add(new Table(["trace", "failing steps", "shrunk steps", "problem"],
                [.. data.Shrunk.Select(s => (IReadOnlyList<string>)[N(s.Trace), N(s.FirstSteps), N(s.Steps), s.Problem])], new HashSet<int> { 0, 1, 2 }));
        }
        return blocks;
    }

    private static void Outcomes(List<Block> blocks, ReportData data)
    {
        blocks.Add(new Heading(2, "Operations × outcomes"));
        var rows = data.Coverage.GroupBy(c => c.Op).Select(g => (Op: g.Key,
            Ok: g.Where(c => c.Outcome == "OK").Sum(c => c.Steps),
            Error: g.Where(c => c.Outcome != "OK" && !c.Outcome.Contains('[', StringComparison.Ordinal)).Sum(c => c.Steps),
            Warned: g.Where(c => c.Outcome.Contains('[', StringComparison.Ordinal)).Sum(c => c.Steps))).ToArray();
        blocks.Add(new Chart("steps per operation by outcome", OutcomesChart, Charts.OutcomesPerOperation(rows)));
        blocks.Add(new Paragraph($"{data.Coverage.Count} operation × outcome pairs produced, counted in steps (the model's answer: errno, "
            + "then the kernel warnings raised)."));
        blocks.Add(new Table(["operation", "outcome", "steps"],
            [.. data.Coverage.Select(c => (IReadOnlyList<string>)[c.Op, c.Outcome, N(c.Steps)])], new HashSet<int> { 2 }));
        blocks.Add(new Heading(3, $"Never produced ({data.NeverProduced.Count} reachable pairs)"));
        blocks.Add(data.NeverProduced.Count == 0
            ? new Paragraph("Every reachable pair of the outcome catalogue (Harness/Iommu/Generation/OutcomeCatalogue.cs) was produced.")
            : new Bullets([.. data.NeverProduced.Select(p => $"{p.Op} → {p.Outcome}")]));
        blocks.Add(new Paragraph("Pairs the catalogue holds unreachable in this slice, and why:"));
        blocks.Add(new Bullets([.. data.Unreachable.Select(p => $"{p.Op} → {p.Outcome}: {p.Reason}")]));
    }

    private static void Invariants(List<Block> blocks, ReportData data)
    {
        blocks.Add(new Heading(2, "Invariants checked"));
        blocks.Add(new Paragraph("Each invariant is evaluated after every checked step over the objects the step could have changed "
            + "(widened to their dependants), and over everything at sweeps (every 16 steps or more as the state grows, and at the last "
            + "step). Objects in those scopes, in all: " + string.Join(", ", data.ScopeObjects.Select(o => $"{N(o.Count)} {o.Kind}")) + "."));
        blocks.Add(new Table(["invariant", "statement", "evaluations"],
            [.. data.Invariants.Select(i => (IReadOnlyList<string>)[i.Id, i.Statement, N(i.Evaluations)])], new HashSet<int> { 2 }));
    }

    private static void Scenarios(List<Block> blocks, ReportData data)
    {
        blocks.Add(new Heading(2, "Scenarios run"));
        blocks.Add(new Table(["dimension", "value", "traces"],
            [.. data.Scenarios.Select(s => (IReadOnlyList<string>)[s.Dimension, s.Value, N(s.Traces)])], new HashSet<int> { 2 }));
    }

    private static void Hunt(List<Block> blocks, (string Seed, IReadOnlyList<HuntRow> Rows)? hunt)
    {
        blocks.Add(new Heading(2, "Seeded-bug hunt"));
        if (hunt is not { } h)
        {
            blocks.Add(new Paragraph($"No {HuntJson.File}: run dotnet run --project Runner -c Release -- hunt first."));
            return;
        }
        var found = h.Rows.Count(r => r.Found);
        blocks.Add(new Paragraph($"{found} of {h.Rows.Count} seeded bugs found (seed {h.Seed}); shrunk length against the documented minimum."));
        blocks.Add(new Chart("traces until each bug was found", HuntChart, Charts.TracesToFind([.. h.Rows.Select(r => (r.Bug, r.Traces, r.Found))])));
        blocks.Add(new Table(["bug", "found", "traces", "first failing steps", "shrunk steps", "documented", "shrink ms"],
            [.. h.Rows.Select(r => (IReadOnlyList<string>)[r.Bug, r.Found ? "yes" : "NO", N(r.Traces), Opt(r.FirstSteps), Opt(r.ShrunkSteps),
                N(r.Documented), r.ShrinkMs.ToString("F1", CultureInfo.InvariantCulture)])],
            new HashSet<int> { 2, 3, 4, 5, 6 }));
    }

    private static void Coverage(List<Block> blocks, CoverageSummary? coverage)
    {
        blocks.Add(new Heading(2, "Code coverage of the tests"));
        if (coverage is not { } c)
        {
            blocks.Add(new Paragraph("No coverage/Summary.json: run bash scripts/coverage.sh first."));
            return;
        }
        blocks.Add(new Table(["measure", "value"],
        [
            ["line coverage", $"{P(c.Line)} ({N(c.CoveredLines)} of {N(c.CoverableLines)} lines)"],
            ["branch coverage", P(c.Branch)],
            ["method coverage", c.Method is { } m ? P(m) : "-"],
            ["generated", c.Generated],
        ], new HashSet<int>()));
        blocks.Add(new Paragraph("Full report: coverage/index.html (ReportGenerator), merged Cobertura: coverage/Cobertura.xml."));
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Opt(int? n) => n is { } v ? N(v) : "-";

    private static string P(double percent) => $"{percent.ToString("F1", CultureInfo.InvariantCulture)} %";
}
