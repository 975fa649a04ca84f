using IommuConformance.Contract;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Checking;

/// <summary>How much a run checks per step.</summary>
public enum CheckMode
{
    /// <summary>Each step checks what it could have changed; full sweeps every few steps and at the end.</summary>
    Incremental,
    /// <summary>Every step checks everything (replay, shrinking, naming the step a sweep found).</summary>
    Full,
}

/// <summary>What a step check sees: the step, what the system answered, and the model's judgement of it.</summary>
public sealed class StepContext
{
    public int Index { get; internal set; }
    public TraceStep Step { get; internal set; } = null!;
    public Outcome Observed { get; internal set; } = Outcome.Ok;
    public Judgement Judgement { get; internal set; }
    public CheckMode Mode { get; internal set; }

    /// <summary>False for steps of a prefix known to pass: checks only keep track of history, and report nothing.</summary>
    public bool Checked { get; internal set; } = true;

    /// <summary>True when this step must check everything (full mode, or a sweep step of an incremental run).</summary>
    public bool Sweep { get; internal set; }

    public Operation Op => Step.Op;
}

/// <summary>
/// One check of the pipeline, run after every step in pipeline order; the first problem stops the run. A check
/// object lives for one run and may keep what it learnt of earlier steps.
/// </summary>
public interface IStepCheck
{
    string Name { get; }

    Problem? Check(StepContext step);
}
