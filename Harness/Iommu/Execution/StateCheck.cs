using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Implementations;
using IommuConformance.Model;
using IommuConformance.Harness.Iommu.Invariants;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// Brings the harness's view of the implementation up to date and checks it. Per step: re-read what the
/// implementation reports as touched (a hint, never trusted); a failed step must have changed nothing but the
/// documented leftovers (c.10); update the waivers; check the structural invariants over what the step could have
/// changed. At a sweep, the whole state is read instead: anything that changed without being reported is a
/// problem of its own, and every invariant is checked over everything.
/// </summary>
public sealed class StateCheck(IommuRun run, bool invariants) : IStepCheck
{
    private readonly List<ObjectChange> _changes = [];
    private readonly Func<int, GroupSnapshot?> _groupOf = id => run.View.Group(id);
    private readonly Func<int, HwContext?> _contextOf = id => run.View.Group(id) is { DomainId: { } d } && run.View.Domain(d) is { } domain
        ? StructuralInvariants.ExpectedContext(domain) : null;

    private readonly Func<string, bool> _tableMade = dev => run.Trace.Topology.Devices.FirstOrDefault(d => d.Name == dev)?.Iommu is { } unit
        && !run.Model.Before.HasUnitTable(unit) && run.Model.State.HasUnitTable(unit);

    public string Name => "state";

    public Problem? Check(StepContext step)
    {
        var view = run.View;
        var system = run.Implementation;
        var scope = run.Scope;
        scope.Clear();
        _changes.Clear();
        Refresh(system.Touched);
        // bus_iommu_probe() is not atomic: an aborted bus probe keeps the devices and groups it set up before the error.
        var atomicity = invariants && step.Checked && step.Observed.Errno != Errno.OK && step.Op is not BusProbe
            ? Atomicity.Violation(_changes, step.Observed, _groupOf, _contextOf, _tableMade) : null;

        string? unreported = null;
        if (step.Sweep && step.Checked)
        {
            var full = system.Snapshot();
            unreported = Unreported.Describe(view, full);
            // Nothing unreported and as many objects as the view holds: the view already is the snapshot (a duplicate
            // id would leave one object of the view unmatched), so only a difference costs a rebuild.
            if (unreported is null && view.Holds(full)) view.SetHardwareErrors(full.HardwareErrors);
            else view.Load(full);
        }
        else view.SetHardwareErrors(system.HardwareErrors);
        Waivers.Observe(run, step, _changes);
        // The IOVA invariants keep history (c.17), so they see every step, checked or not.
        var iova = invariants ? IovaViolation(step) : null;
        if (!step.Checked || !invariants)
        {
            run.Context.HardwareErrorsJudged = view.HardwareErrors.Count;
            return null;
        }

        var sweepName = step.Sweep && step.Mode == CheckMode.Incremental ? " (sweep)" : "";
        if (atomicity is not null) return new Problem(ProblemKind.Invariant, "atomicity", atomicity);
        if (iova is not null) return new Problem(ProblemKind.Invariant, "invariants" + sweepName, iova);
        if (!step.Sweep && run.InvariantKey == run.InvariantsHeldAt && view.HardwareErrors.Count == run.Context.HardwareErrorsJudged)
            return null; // nothing changed since they last held (IommuRun.InvariantsHeldAt)
        var checkScope = step.Sweep ? scope.SetAll(view) : Widened(scope);
        if (InvariantChecker.FirstViolation(view, checkScope, run.Context) is { } violation)
            return new Problem(ProblemKind.Invariant, "invariants" + sweepName, violation);
        run.Context.HardwareErrorsJudged = view.HardwareErrors.Count;
        run.InvariantsHeldAt = run.InvariantKey;
        if (unreported is not null)
            return new Problem(ProblemKind.Unreported, "touched set" + sweepName, unreported);
        return null;
    }

    // c.13–c.18 on the IOVA domains the step touched (every one at a sweep or a tick, whose timers reach them all).
    private string? IovaViolation(StepContext step)
    {
        if (run.Implementation is not IIovaView iova) return null;
        string? first = null;
        if (step.Sweep || step.Op is Tick)
        {
            _iovaDomains.Clear();
            _iovaDomains.AddRange(iova.IovaDomainIds());
            foreach (var id in _iovaDomains) first ??= IovaViolation(iova, id);
        }
        else
            foreach (var id in run.Implementation.Touched.Domains) first ??= IovaViolation(iova, id);
        return first;
    }

    private readonly List<int> _iovaDomains = [];

    private string? IovaViolation(IIovaView iova, int id)
    {
        if (iova.SnapshotIova(id) is not { } snapshot)
        {
            run.IovaHistory.Forget(id);
            return null;
        }
        return IovaInvariants.FirstViolation(snapshot, run.IovaHistory);
    }

    private Scope Widened(Scope scope)
    {
        scope.Widen(run.View);
        return scope;
    }

    private void Refresh(Implementations.TouchedSet touched)
    {
        var view = run.View;
        var system = run.Implementation;
        var scope = run.Scope;
        foreach (var name in touched.Devices)
        {
            var now = system.SnapshotDevice(name);
            var old = view.SetDevice(name, now);
            scope.Devices.Add(name);
            if (old?.GroupId is { } g) scope.Groups.Add(g);
            if (old?.Context.DomainId is { } d) scope.Domains.Add(d);
            _changes.Add(new ObjectChange(old, now));
        }
        foreach (var id in touched.Groups)
        {
            var now = system.SnapshotGroup(id);
            var old = view.SetGroup(id, now);
            if (old is null && now is null) continue;
            scope.Groups.Add(id);
            if (old is not null)
            {
                foreach (var m in old.Members) scope.Devices.Add(m);
                StateView.AddHeld(scope.Domains, old);
            }
            _changes.Add(new ObjectChange(old, now));
        }
        foreach (var id in touched.Domains)
        {
            var now = system.SnapshotDomain(id);
            var old = view.SetDomain(id, now);
            if (old is null && now is null) continue;
            scope.Domains.Add(id);
            _changes.Add(new ObjectChange(old, now));
        }
    }
}

/// <summary>One object's snapshot before and after a step (null: it did not exist).</summary>
public readonly record struct ObjectChange(object? Before, object? After);
