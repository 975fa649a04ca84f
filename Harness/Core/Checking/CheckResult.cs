using IommuConformance.Harness.Core.Execution;

namespace IommuConformance.Harness.Core.Checking;

/// <summary>What one property run found: counts, speed, and the shrunk failing run if there was one.</summary>
/// <param name="StepsChecked">Steps run with their checks (steps a shrink candidate ran unchecked, known good, excluded).</param>
public sealed record CheckResult<TCase>(
    bool Failed, int Tests, int Shrinks, long StepsChecked, TimeSpan Elapsed, RunReport<TCase>? Shrunk, string Replay)
{
    public double StepsPerSecond => StepsChecked / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Time from the end of the first failing run to the end of shrinking (zero when nothing failed).</summary>
    public TimeSpan ShrinkElapsed { get; init; }

    /// <summary>How long the first failing case was, before shrinking (null when nothing failed).</summary>
    public int? FirstFailureSteps { get; init; }

    /// <summary>What shrinking cost and what the shrink cache saved.</summary>
    public ShrinkStats Shrinking { get; init; } = ShrinkStats.None;
}

/// <summary>The shrinking phase in figures.</summary>
/// <param name="Candidates">Shrink candidates FsCheck evaluated.</param>
/// <param name="Memoised">Candidates answered by an earlier run of an equal case.</param>
/// <param name="Known">Candidates answered without running: every step of them passed in earlier runs.</param>
/// <param name="StepsRun">Steps the candidate runs executed.</param>
/// <param name="StepsUnchecked">Of those, steps executed without checks: known good from an earlier run with the same prefix.</param>
public sealed record ShrinkStats(int Candidates, int Memoised, int Known, long StepsRun, long StepsUnchecked)
{
    public static readonly ShrinkStats None = new(0, 0, 0, 0, 0);
}
