using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

public class PrinterTests
{
    private static RunReport Diverged()
    {
        var trace = Fixtures.Small(new(new Probe("dev0")), new(new ClaimDmaOwner("dev0", null)), new(new Release("dev0")));
        return new RunReport(trace,
        [
            new StepReport(0, trace.Steps[0].Op, Outcome.Ok, Outcome.Ok, null),
            new StepReport(1, trace.Steps[1].Op, Outcome.Of(Errno.EINVAL).WithWarnings([Warn.ClaimDmaOwnerNull]), Outcome.Ok, new Problem(ProblemKind.Divergence, "outcome", "errno differs")),
        ], Verdict.Diverged, new Problem(ProblemKind.Divergence, "outcome", "errno differs"));
    }

    [Fact]
    public void Failure_report_starts_with_the_reproduction_then_table_problem_and_trace()
    {
        var text = FailurePrinter.Print(Diverged(), "seed: (123,456,7)", "traces/found.json");
        var lines = text.Split('\n');
        Assert.Equal("seed: (123,456,7)", lines[0]);
        Assert.Equal("replay: dotnet run --project Runner -- replay traces/found.json", lines[1]);
        Assert.Contains(lines, l => l.StartsWith("DIVERGED at step 2 of 3", StringComparison.Ordinal));
        var header = Array.FindIndex(lines, l => l.StartsWith("#  operation", StringComparison.Ordinal));
        Assert.True(header > 1);
        Assert.Matches(@"^1  probe \{dev: dev0\}\s+OK\s+OK\s+ok$", lines[header + 2]);
        Assert.Matches(@"^2  claim_dma_owner \{dev: dev0, owner: null\}\s+EINVAL \[claim_dma_owner_null\]\s+OK\s+DIVERGED$", lines[header + 3]);
        Assert.Contains("problem: errno differs", text);

        var json = text[text.IndexOf("{\n", StringComparison.Ordinal)..];
        var replayable = TraceJson.Read(json);
        Assert.Equal(new Expect(Errno.EINVAL, null, [Warn.ClaimDmaOwnerNull]), replayable.Steps[1].Expect);
        Assert.Null(replayable.Steps[2].Expect);
    }

    [Fact]
    public void Without_a_file_the_first_line_says_how_to_replay_the_printed_trace()
    {
        var first = FailurePrinter.Print(Diverged()).Split('\n')[0];
        Assert.StartsWith("replay: save the trace below", first);
    }

    [Fact]
    public void Step_table_has_a_row_per_step_and_marks_the_verdicts()
    {
        var report = Diverged();
        var rows = StepTable.Render(report).TrimEnd().Split('\n');
        Assert.Equal(2 + report.Steps.Length, rows.Length);
        Assert.Equal(["#", "operation", "model", "implementation", "verdict"], rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith("ok", rows[2]);
        Assert.EndsWith("DIVERGED", rows[3]);
        var invariant = report with { Steps = [report.Steps[0], report.Steps[1] with { Problem = new Problem(ProblemKind.Invariant, "invariants", "c.2: x") }] };
        Assert.EndsWith("INVARIANT", StepTable.Render(invariant).TrimEnd().Split('\n')[^1]);
        var expect = report with { Steps = [report.Steps[0], report.Steps[1] with { Problem = new Problem(ProblemKind.Expect, "expect", "x") }], Verdict = Verdict.ExpectMismatch };
        Assert.EndsWith("EXPECT", StepTable.Render(expect).TrimEnd().Split('\n')[^1]);
        Assert.Equal("EXPECT MISMATCH at step 2 of 3", StepTable.Summary(expect));
    }
}
