using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// Grants and withdraws the invariant waivers of <see cref="Invariants.InvariantContext"/>, each for exactly the
/// group or devices the kernel's own leniency concerns and for as long as it lasts (docs/trace-format.md):
/// <list type="bullet">
/// <item>owner-count misuse (a late probe of a bound device, warned <c>late_probe_at_driver_bind</c>; a
/// <c>release_dma_owner</c> on an unowned group with several DMA-API users): c.4 for that group, until it is freed;</item>
/// <item>a refused MUST_SUCCEED switch or revert (warned <c>set_domain_nofail_failed</c> /
/// <c>set_domain_revert_failed</c>, or <c>default_domain_first_attach_failed</c> in a bus probe): the hardware halves of c.2, c.7, c.9 for the members of that group, each until a
/// later successful step rewrites its context to match its group's domain;</item>
/// <item>of those, a device whose first attach failed (the model's hardware entry is still <c>Unattached</c>): also the
/// abort half of c.7, while it lags;</item>
/// <item>a refused attach of a group without a current domain (no warning: the kernel does not revert it): the same, for
/// the members the model says it left on the new domain (<c>ModelState.LaggingMembers</c>).</item>
/// </list>
/// </summary>
internal static class Waivers
{

    public static void Observe(IommuRun run, StepContext step, IReadOnlyList<ObjectChange> changes)
    {
        var context = run.Context;
        var view = run.View;
        var before = run.Model.Before;
        var warnings = step.Observed.Warnings;
        // Most steps can neither grant nor withdraw a waiver: no warning, nothing waived yet, not a probe or a release.
        if (warnings.IsEmpty && context.UnbalancedGroups.Count == 0 && context.LaggingDevices.Count == 0
            && step.Op is not (Probe or BusProbe or ReleaseDmaOwner) && step.Observed.Errno == Errno.OK) return;
        var dev = DeviceOf(run, step.Op);

        // The model's state before the step tells which devices were bound but unprobed (WARN late_probe_at_driver_bind).
        if (step.Op is Probe or BusProbe)
            foreach (var d in LateProbed(run, step.Op))
                if (view.Device(d)?.GroupId is { } g) context.UnbalancedGroups.Add(g);
        if (step.Op is ReleaseDmaOwner r && before.IsProbed(r.Dev) && before.Owner(r.Dev) is null && before.OwnerCount(r.Dev) > 1
            && view.Device(r.Dev)?.GroupId is { } misused)
            context.UnbalancedGroups.Add(misused);
        if (context.UnbalancedGroups.Count > 0) DropFreedGroups(context, view);

        // A failed first attach leaves the new default domain with the group (iommu_setup_default_domain); the probed
        // device is unwound, but members an aborted bus probe left in the group stay on their old hardware entries.
        var refused = !warnings.IsEmpty && (warnings.Contains(Warn.SetDomainNoFailFailed) || warnings.Contains(Warn.SetDomainRevertFailed)
            || warnings.Contains(Warn.DefaultDomainFirstAttachFailed));
        if (refused && dev is not null)
            foreach (var g in GroupsOf(view, changes, dev))
                context.LaggingDevices.UnionWith(g.Members);
        if (refused && step.Op is Probe or BusProbe)
            foreach (var c in changes)
                if (c.After is GroupSnapshot g) context.LaggingDevices.UnionWith(g.Members);
        // A refused switch of a group without a current domain is not reverted, and warns nothing
        // (__iommu_group_set_domain_internal: "A NULL domain can happen only for first probe"): the members switched
        // before the refusal stay on the new domain. The model tracks exactly those (GroupState.Lagging).
        if (step.Observed.Errno != Errno.OK && dev is not null)
            foreach (var m in run.Model.State.LaggingMembers(dev))
                if (!before.LaggingMembers(dev).Contains(m)) context.LaggingDevices.Add(m);
        if (!refused && step.Observed.Errno == Errno.OK && context.LaggingDevices.Count > 0)
            foreach (var c in changes)
                if (c.After is DeviceSnapshot d && Matches(run, d)) context.LaggingDevices.Remove(d.Name);
        if (context.LaggingDevices.Count > 0) DropReleasedDevices(context, view);
        if (context.LaggingDevices.Count > 0 || context.NeverAttached.Count > 0) MarkNeverAttached(run, context);
        if (context.TablelessInstances.Count > 0) DropTabled(run, context);
    }

    // The instances whose table the model has recorded since (each is made once and kept).
    private static void DropTabled(IommuRun run, Invariants.InvariantContext context) =>
        context.TablelessInstances.RemoveWhere(i => run.Model.State.HasUnitTable(i));

    // Which lagging devices the model says no attach has reached since their probe.
    private static void MarkNeverAttached(IommuRun run, Invariants.InvariantContext context)
    {
        context.NeverAttached.Clear();
        foreach (var d in context.LaggingDevices)
            if (run.Model.State.HardwareDomainOf(d) == IommuConformance.Model.State.HardwareDomain.Unattached) context.NeverAttached.Add(d);
    }

    // Apart from Observe, so that their closures are allocated only when there is something to prune.
    private static void DropFreedGroups(Invariants.InvariantContext context, Invariants.StateView view) =>
        context.UnbalancedGroups.RemoveWhere(g => view.Group(g) is null);

    private static void DropReleasedDevices(Invariants.InvariantContext context, Invariants.StateView view) =>
        context.LaggingDevices.RemoveWhere(d => view.Device(d)?.GroupId is null);

    /// <summary>The devices a probe step found bound but unprobed (the model's state before the step).</summary>
    private static IEnumerable<string> LateProbed(IommuRun run, Operation op)
    {
        var before = run.Model.Before;
        IEnumerable<string> candidates = op switch
        {
            Probe p => [p.Dev],
            BusProbe b => run.Trace.Topology.Devices.Where(d => d.Bus == b.Bus).Select(d => d.Name),
            _ => [],
        };
        return candidates.Where(d => before.IsBound(d) && !before.IsProbed(d));
    }

    private static string? DeviceOf(IommuRun run, Operation op)
    {
        var i = op.Spec.IndexOf(Args.Dev.Field);
        return i < 0 ? null : run.Values(op)[i].Text;
    }

    /// <summary>The device's group now, and the one it was in before the step if that changed.</summary>
    private static IEnumerable<GroupSnapshot> GroupsOf(Invariants.StateView view, IReadOnlyList<ObjectChange> changes, string dev)
    {
        if (view.Group(view.Device(dev)?.GroupId) is { } now) yield return now;
        foreach (var c in changes)
            if (c.Before is GroupSnapshot g && g.Members.Contains(dev) && view.Group(g.Id) is null) yield return g;
    }

    private static bool Matches(IommuRun run, DeviceSnapshot d) =>
        run.View.Group(d.GroupId) is { } g && run.View.Domain(g.DomainId) is { } domain
        && Invariants.StructuralInvariants.ExpectedContext(domain) == d.Context;
}
