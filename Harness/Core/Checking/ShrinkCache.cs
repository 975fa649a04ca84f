using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Shrinking;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Checking;

/// <summary>
/// Runs shrink candidates cheaply, in full mode. <b>Memo</b>: a case equal to one already run (same
/// <see cref="CaseKey"/>) gets that run's report. <b>Prefix cache</b>: per machine (<see cref="ICase{TSelf}.MachineKey"/>)
/// a trie of the step sequences full runs passed; a candidate whose first p steps equal those of a run that passed
/// its first k steps has min(p, k) steps known good, which are only executed, not checked
/// (<see cref="CaseExecutor.RunFullAfter"/>). A candidate all of whose steps are known good and which a passing run
/// ended with passed already: its report is put together from the trie without running. A run's end is marked apart
/// from its steps because checks may run after the last step (the IOMMU binding's teardown audit): a prefix of a
/// passing run is not known to pass its own end, so its last step is checked again.
/// </summary>
/// <param name="runFullAfter">Runs a case in full mode, checking only the steps after the first <c>knownGood</c>; null: vacuous.</param>
/// <param name="knownGoodPrefixes">False when the runs are not full-mode runs: memo only, every step checked (knownGood 0).</param>
public sealed class ShrinkCache<TCase>(Func<TCase, int, RunReport<TCase>?> runFullAfter, bool knownGoodPrefixes = true)
    where TCase : ICase<TCase>
{
    private readonly Dictionary<string, RunReport<TCase>?> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _machines = new(StringComparer.Ordinal);
    private int _candidates, _memoised, _known;
    private long _stepsRun, _stepsUnchecked;

    public ShrinkStats Stats => new(_candidates, _memoised, _known, _stepsRun, _stepsUnchecked);

    /// <summary>Steps checked by candidate runs (run minus unchecked).</summary>
    public long StepsChecked => _stepsRun - _stepsUnchecked;

    /// <summary>A shrink candidate's full-mode report (null: vacuous): memoised, assembled from known-good steps, or run.</summary>
    public RunReport<TCase>? Run(TCase c)
    {
        _candidates++;
        var key = CaseKey.Of(c);
        if (_runs.TryGetValue(key, out var known))
        {
            _memoised++;
            return known;
        }
        var (knownGood, path) = KnownGood(c);
        RunReport<TCase>? report;
        if (knownGood == c.Steps.Length && c.Steps.Length > 0 && path[^1].EndsGood)
        {
            _known++;
            report = new RunReport<TCase>(c, [.. path.Select(n => n.Report!)], Verdict.Conformant, null);
        }
        else if ((report = runFullAfter(c, knownGood = Math.Max(0, Math.Min(knownGood, c.Steps.Length - 1)))) is not null)
        {
            _stepsRun += report.Steps.Length;
            _stepsUnchecked += Math.Min(knownGood, report.Steps.Length);
            RecordFull(c, report);
        }
        _runs[key] = report;
        return report;
    }

    /// <summary>Remembers a report of a case (memo only; e.g. the first failure, found by an incremental run).</summary>
    public void Remember(TCase c, RunReport<TCase> report) => _runs.TryAdd(CaseKey.Of(c), report);

    /// <summary>Records a full-mode report: its passed steps become known good for cases with the same prefix.</summary>
    public void RecordFull(TCase c, RunReport<TCase> report)
    {
        if (!knownGoodPrefixes) return;
        var passed = report.Conformant ? report.Steps.Length : report.Steps.Length - 1;
        if (passed <= 0) return;
        if (!_machines.TryGetValue(c.MachineKey, out var node)) _machines[c.MachineKey] = node = new Node(null);
        for (var i = 0; i < passed; i++)
        {
            var step = c.Steps[i];
            if (!node.Next.TryGetValue(step, out var next)) node.Next[step] = next = new Node(report.Steps[i]);
            node = next;
        }
        if (report.Conformant) node.EndsGood = true;
    }

    /// <summary>How many steps the report of a case took, when it failed (null: unknown or conformant).</summary>
    public int? FailingSteps(TCase c) =>
        _runs.TryGetValue(CaseKey.Of(c), out var report) && report is { Conformant: false } ? report.Steps.Length : null;

    /// <summary>The number of leading steps of <paramref name="c"/> known to pass.</summary>
    public int KnownGoodSteps(TCase c) => KnownGood(c).Count;

    /// <summary>The known-good leading steps of <paramref name="c"/>: how many, and their trie nodes.</summary>
    private (int Count, List<Node> Path) KnownGood(TCase c)
    {
        var path = new List<Node>();
        if (!_machines.TryGetValue(c.MachineKey, out var node)) return (0, path);
        foreach (var step in c.Steps)
        {
            if (!node.Next.TryGetValue(step, out node!)) break;
            path.Add(node);
        }
        return (path.Count, path);
    }

    /// <summary>A step known to pass after the steps on the path to it, with its report from that run.</summary>
    private sealed class Node(StepReport? report)
    {
        public StepReport? Report { get; } = report;
        public Dictionary<TraceStep, Node> Next { get; } = [];

        /// <summary>A passing run ended at this step (its end-of-case checks passed too).</summary>
        public bool EndsGood { get; set; }
    }
}
