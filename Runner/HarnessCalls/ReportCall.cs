using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Harness.Iommu.Invariants;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>One invariant of the report: its id, statement, and how often the campaign evaluated it.</summary>
internal sealed record InvariantFigure(string Id, string Statement, long Evaluations);

/// <summary>A catalogue pair the campaign never produced; <paramref name="Reason"/> when the catalogue calls it unreachable.</summary>
internal sealed record OutcomePair(string Op, string Outcome, string? Reason);

/// <summary>What the conformance report shows of a campaign, as plain values.</summary>
internal sealed record ReportData(
    bool Failed,
    string Replay,
    IReadOnlyList<(string Name, string Value)> Figures,
    IReadOnlyList<(string Op, string Outcome, long Steps)> Coverage,
    IReadOnlyList<OutcomePair> NeverProduced,
    IReadOnlyList<OutcomePair> Unreachable,
    IReadOnlyList<InvariantFigure> Invariants,
    IReadOnlyList<(string Kind, long Count)> ScopeObjects,
    IReadOnlyList<(string Dimension, string Value, long Traces)> Scenarios,
    IReadOnlyList<(long Trace, int FirstSteps, int Steps, string Problem)> Shrunk);

internal static class ReportCall
{
    public static ReportData Data(CampaignRun run)
    {
        var r = run.Result;
        var counts = r.Invariants.Row(CampaignResult.InvariantRow);
        return new ReportData(
            r.Failed, r.Replay, CampaignReport.Figures(r),
            [.. r.Coverage.Cells],
            [.. CampaignReport.NeverProduced(r).Select(p => new OutcomePair(p.Op, p.Outcome, null))],
            [.. OutcomeCatalogue.Unreachable.Select(u => new OutcomePair(u.Op, u.Key, u.Reason))],
            [.. StructuralInvariants.All.Select(i => new InvariantFigure(i.Id, i.Statement, counts.GetValueOrDefault(i.Id)))],
            [.. InvariantCounts.ScopeKinds.Select(k => (k, r.Invariants[CampaignResult.ScopeRow, k]))],
            [.. r.Scenarios.Cells],
            [.. r.Shrunk.Select(s => (s.TraceNumber, s.FirstSteps, s.Steps, s.Problem))]);
    }
}
