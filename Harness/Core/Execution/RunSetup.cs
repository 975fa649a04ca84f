using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Harness.Core.Execution;

/// <summary>One run's sides and check pipeline, built by a binding for one case and one mode.</summary>
public sealed class RunSetup
{
    public required IJudge Model { get; init; }

    public required ISystem System { get; init; }

    /// <summary>The pipeline, in order: the first problem stops the run.</summary>
    public required IReadOnlyList<IStepCheck> Checks { get; init; }

    /// <summary>In incremental mode, every this many steps (and at the last step) the checks sweep everything.</summary>
    public int SweepEvery { get; init; } = 16;

    /// <summary>
    /// In incremental mode, whether step <c>i</c> (0-based) sweeps; when null, every <see cref="SweepEvery"/> steps. A
    /// binding whose sweeps grow with the state can space them out so that their cost per step stays flat.
    /// </summary>
    public Func<int, bool>? SweepDue { get; init; }

    /// <summary>In incremental mode, whether the last step sweeps (always, but for tests that show what sweeps add).</summary>
    public bool SweepAtEnd { get; init; } = true;
}

/// <summary>What a binding gives the generic executor: a fresh model, system and pipeline for one case.</summary>
public interface IRunBinding<TCase>
{
    /// <summary>Builds the run; an exception here is the system failing to start (reported, not thrown).</summary>
    RunSetup Start(TCase trace, CheckMode mode);
}
