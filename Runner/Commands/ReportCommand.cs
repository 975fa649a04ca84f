using System.CommandLine;
using IommuConformance.Runner.HarnessCalls;
using IommuConformance.Runner.Reporting;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>report [--out DIR]</c>: the conformance report, DIR/conformance.md (with its charts as PNG beside it) and
/// DIR/conformance.html (charts embedded), from DIR/campaign.json (required: run <c>campaign</c> or <c>merge</c>
/// first), DIR/hunt.json and DIR/coverage/Summary.json (optional: their sections then say how to make them).
/// A campaign.json that is no campaign result exits 3; no campaign.json exits 64. Exit 0 otherwise (the
/// report describes a failing campaign too; the campaign's own exit code is the verdict).
/// </summary>
internal static class ReportCommand
{
    public static Command Create(RunnerIo io)
    {
        var output = new Option<string>("--out")
        {
            HelpName = "DIR",
            Description = "directory holding campaign.json (and hunt.json, coverage/), where the report is written",
            DefaultValueFactory = _ => "reports",
        };
        var command = new Command("report", "write DIR/conformance.html and .md from DIR/campaign.json, hunt.json and coverage/") { output };
        command.SetAction(parse => Run(parse.GetValue(output) ?? "reports", io));
        return command;
    }

    private static int Run(string dir, RunnerIo io)
    {
        var source = Path.Combine(dir, CampaignCommand.ResultFile);
        if (!File.Exists(source)) return io.Usage($"report: no {source}: run 'campaign' (or 'merge') with --out {dir} first");
        CampaignRun run;
        try
        {
            run = CampaignCall.Read(source);
        }
        catch (Exception e) when (CampaignCall.IsFormatError(e))
        {
            io.Error.WriteLine($"malformed campaign result: {RunnerIo.OneLine(e.Message)}");
            return ExitCodes.Malformed;
        }
        var notes = new List<string>();
        var hunt = HuntJson.TryRead(Path.Combine(dir, HuntJson.File), out var huntProblem);
        if (huntProblem is not null) notes.Add($"hunt results left out: {huntProblem}");
        var coverage = CoverageSummary.TryRead(dir, out var coverageProblem);
        if (coverageProblem is not null) notes.Add($"coverage left out: {coverageProblem}");
        if (!OutDirectory.TryPrepare(dir, [ConformanceReport.MarkdownFile, ConformanceReport.HtmlFile], out var problem)) return io.Usage(problem);

        var blocks = ConformanceReport.Build(ReportCall.Data(run), hunt, coverage, notes);
        foreach (var chart in blocks.OfType<Chart>())
            OutDirectory.WriteAtomically(Path.Combine(dir, chart.FileName), chart.Png);
        OutDirectory.WriteAtomically(Path.Combine(dir, ConformanceReport.MarkdownFile), ReportDocument.Markdown(blocks));
        var html = Path.Combine(dir, ConformanceReport.HtmlFile);
        OutDirectory.WriteAtomically(html, ReportDocument.Html("IOMMU core conformance report", blocks));
        io.Output.WriteLine($"conformance report: {html} and {Path.Combine(dir, ConformanceReport.MarkdownFile)}"
            + (hunt is null ? " (no hunt results)" : "") + (coverage is null ? " (no coverage summary)" : ""));
        return ExitCodes.Conformant;
    }
}
