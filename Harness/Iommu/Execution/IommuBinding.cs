using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// The IOMMU binding of the generic executor: the project's model and implementation, and the check pipeline
/// composed from <see cref="ExecutorChecks"/>, in this order: expect, c.22, outcome, state (c.10, invariants,
/// the IOVA invariants c.13–c.18, unreported changes at sweeps), observations, page tables (G3/G4), isolation (G1), and
/// after the last step the teardown audit (c.19). Page tables and isolation read the implementation's hardware
/// (<see cref="IHardwareView"/>), the IOVA invariants and the teardown its DMA layer (<see cref="IIovaView"/>); each does
/// nothing on a system without it.
/// </summary>
public sealed class IommuBinding(ExecutorChecks checks = ExecutorChecks.All, Func<Trace, (IIommuJudge, IIommuSystem)>? sides = null)
    : IRunBinding<Trace>
{
    public static readonly IommuBinding Default = new();

    public ExecutorChecks Checks => checks;

    public RunSetup Start(Trace trace, CheckMode mode)
    {
        var (model, implementation) = (sides ?? ProjectSides)(trace);
        var run = new IommuRun(trace, model, implementation, mode);
        var pipeline = new List<IStepCheck> { new ExpectCheck() };
        var invariants = checks.HasFlag(ExecutorChecks.Invariants);
        if (invariants) pipeline.Add(new FreshDomainCheck(run));
        if (checks.HasFlag(ExecutorChecks.Outcomes)) pipeline.Add(new OutcomeCheck());
        pipeline.Add(new StateCheck(run, invariants));
        if (checks.HasFlag(ExecutorChecks.Observations))
        {
            pipeline.Add(new ObservationCheck(run));
            pipeline.Add(new PasidCheck(run));
        }
        if (checks.HasFlag(ExecutorChecks.PageTables)) pipeline.Add(new PageTableCheck(run));
        if (checks.HasFlag(ExecutorChecks.Isolation))
        {
            pipeline.Add(new IsolationCheck(run));
            pipeline.Add(new PasidIsolationCheck(run));
        }
        if (checks.HasFlag(ExecutorChecks.Teardown)) pipeline.Add(new TeardownCheck(run));
        return new RunSetup { Model = model, System = implementation, Checks = pipeline, SweepEvery = SweepEvery, SweepDue = run.SweepDue };
    }

    /// <summary>The project's model and implementation for a trace.</summary>
    public static (IIommuJudge, IIommuSystem) ProjectSides(Trace trace) =>
        (ModelTrail.Of(trace) is { } trail ? new ModelJudge(trail.Initial, trail) : new ModelJudge(ModelState.Initial(trace.Config, trace.Topology)),
         new ImplementationSystem(IommuSystem.Create(trace.Config, trace.Topology, trace.Bugs)));

    /// <summary>How often an incremental run sweeps everything (and always at its last step).</summary>
    public const int SweepEvery = 16;
}

/// <summary>Runs traces on the project's model and implementation.</summary>
public static class Executor
{
    /// <summary>Incremental checking with full sweeps (the default run).</summary>
    public static RunReport<Trace> Run(Trace trace) => CaseExecutor.Run(trace, IommuBinding.Default);

    /// <summary>With only the chosen checks (properties that test one kind of check alone).</summary>
    public static RunReport<Trace> Run(Trace trace, ExecutorChecks checks, CheckMode mode = CheckMode.Incremental) =>
        CaseExecutor.Run(trace, checks == ExecutorChecks.All ? IommuBinding.Default : new IommuBinding(checks), mode);

    /// <summary>On other sides (test doubles, other back-ends).</summary>
    public static RunReport<Trace> Run(Trace trace, Func<Trace, (IIommuJudge, IIommuSystem)> sides, ExecutorChecks checks = ExecutorChecks.All,
        CheckMode mode = CheckMode.Incremental) =>
        CaseExecutor.Run(trace, new IommuBinding(checks, sides), mode);

    /// <summary>Every check after every step (replay of a saved trace, shrinking).</summary>
    public static RunReport<Trace> RunFull(Trace trace, ExecutorChecks checks = ExecutorChecks.All) => Run(trace, checks, CheckMode.Full);

    /// <summary>
    /// Full mode, but the first <paramref name="knownGood"/> steps are only executed, not checked: the caller knows they
    /// pass (the shrinker's prefix cache, <see cref="CaseExecutor.RunFullAfter"/>).
    /// </summary>
    public static RunReport<Trace> RunFullAfter(Trace trace, int knownGood, ExecutorChecks checks = ExecutorChecks.All) =>
        CaseExecutor.RunFullAfter(trace, checks == ExecutorChecks.All ? IommuBinding.Default : new IommuBinding(checks), knownGood);
}
