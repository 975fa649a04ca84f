using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Model.Rules;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>
/// <c>__iommu_group_set_domain_internal</c> and its wrappers, abstractly: a group switches as a whole, so a
/// refusal by any member is the switch's errno and (without MUST_SUCCEED) leaves the group as it was.
/// </summary>
public sealed partial class ModelState
{
    /// <summary>
    /// The group's blocking domain: the driver's static blocked domain. On mock it is the same object as the
    /// static default, so it is written <see cref="DomainRef.Default"/> once the group has that default (a group
    /// an aborted bus probe left without one is parked on it as <see cref="DomainRef.Blocking"/>).
    /// </summary>
    private DomainRef BlockingOf(GroupState g) =>
        DriverOf(g).StaticBlockedDefault && g.Default is not null ? DomainRef.Default : DomainRef.Blocking;

    /// <summary><c>group->default_domain</c> as a target: null (the NULL pointer) while the group has none.</summary>
    private static DomainRef? DefaultOf(GroupState g) => g.Default is null ? null : DomainRef.Default;

    /// <summary><c>__iommu_group_set_core_domain</c>'s target: blocking when owned, else default (possibly NULL).</summary>
    private DomainRef? CoreDomainOf(GroupState g) => g.Owner is not null ? BlockingOf(g) : DefaultOf(g);

    /// <summary>BLOCKED-typed or the group's blocking domain: what a <c>require_direct</c> device refuses.</summary>
    private static bool IsBlockedTyped(GroupState g, DomainRef target) =>
        target.Role == DomainRole.Blocking || (target.Role == DomainRole.Default && g.Default == DefaultKind.Blocked);

    /// <summary>
    /// <c>__iommu_device_set_domain</c> for one device of the group: OK or the device's refusal, which may be an injected
    /// failure of the driver's attach (<see cref="InjectedAttach"/>, met at one ask only: <see cref="AttachFaultMark"/>).
    /// </summary>
    private Errno DeviceAccepts(GroupState g, DeviceSpec dev, DomainRef target)
    {
        UserDomain? user = null;
        if (target.Role == DomainRole.User && !domains.TryGetValue(target.Handle ?? "", out user)) return Errno.ENOENT;
        var errno = Compatibility.DeviceAccepts(DriverOf(g), dev, IsBlockedTyped(g, target), user);
        if (errno != Errno.OK || InjectedAttach(g, dev, target) is not { } line) return errno;
        // a PASID table's failure is the setup's -ENODEV (VT-d), every other allocation -ENOMEM
        return Warn.FaultSites.TryParse(line, out var site, out _) && site == DriverOf(g).Caps.PasidLeafSite ? DriverOf(g).Caps.PasidLeafErrno : Errno.ENOMEM;
    }

    /// <summary>
    /// The injected line if this ask of <paramref name="dev"/> for <paramref name="target"/> meets it: an allocation of
    /// the device's driver in <c>attach_dev</c> (virtio's ATTACH request, smmuv3's CD table at the first paging attach, a
    /// legacy VT-d unit's context table at its first entry; a BLOCKED-typed target is a DETACH or a clear, which
    /// allocates nothing here), at the first such ask of the step.
    /// </summary>
    private string? InjectedAttach(GroupState g, DeviceSpec dev, DomainRef target)
    {
        if (AttachMark is not { } mark || IsBlockedTyped(g, target)) return null;
        var caps = DriverOf(g).Caps;
        var first = !HasPasidTable(g, dev.Name, Pasid) && TakesFirstAttach(g, target) ? caps.FirstPagingAttachSites.AddRange(caps.FirstEntrySites) : [];
        string[] unit = caps.UnitTableSite is { } table && LacksUnitTable(g.Iommu) ? [table] : [];
        foreach (var site in caps.AttachSites.Concat(first).Concat(unit))
            if (InjectedFor(dev.Name, site) is { } line)
            {
                mark.At ??= (target, g.Default);
                return mark.At == (target, g.Default) ? line : null;
            }
        return null;
    }

    /// <summary>Whether <paramref name="g"/>'s driver keeps what a member's first attach of some kind allocates (<see cref="TakesFirstAttach"/>).</summary>
    private bool KeepsFirstAttach(GroupState g) => DriverOf(g).Caps is var caps && (!caps.FirstPagingAttachSites.IsEmpty || !caps.FirstEntrySites.IsEmpty);

    /// <summary>
    /// Whether an attach of <paramref name="g"/>'s members to <paramref name="target"/> is the kind whose first allocates
    /// what the driver keeps (<see cref="GroupState.PagingAttached"/>): a paging one for smmuv3's CD table, any that is
    /// not BLOCKED-typed for a scalable VT-d unit's first PASID table (the RID's entry).
    /// </summary>
    private bool TakesFirstAttach(GroupState g, DomainRef target) =>
        DriverOf(g).Caps.FirstEntrySites.IsEmpty ? IsPaging(g, target) : !IsBlockedTyped(g, target);

    /// <summary>Whether <paramref name="target"/> is a paging domain for <paramref name="g"/>: a trace's domain, or a DMA / DMA-FQ default.</summary>
    private static bool IsPaging(GroupState g, DomainRef target) =>
        target.Role == DomainRole.User || (target.Role == DomainRole.Default && g.Default is DefaultKind.Dma or DefaultKind.DmaFq);

    /// <summary>
    /// A refused switch of <paramref name="switched"/> to a <paramref name="target"/> whose first attach allocates
    /// (<see cref="TakesFirstAttach"/>): the members before the one that refused took it (and keep what their driver
    /// allocated for it, <see cref="GroupState.PagingAttached"/>) before the revert moves them back; <paramref name="g"/>
    /// with them recorded.
    /// </summary>
    private GroupState PagingTaken(GroupState g, GroupState switched, DomainRef target, int failed)
    {
        if (failed <= 0 || !KeepsFirstAttach(g) || !TakesFirstAttach(switched, target)) return g;
        var taken = g.PagingAttached.Union(MemberSpecs(g).Take(failed).Select(d => d.Name));
        return taken.Count == g.PagingAttached.Count ? g : g with { PagingAttached = taken };
    }

    /// <summary>
    /// After a step: every member on a domain whose first attach allocates (<see cref="TakesFirstAttach"/>) has taken one
    /// (<see cref="GroupState.PagingAttached"/>, for drivers that keep what the first one allocated; a PASID set records its
    /// own, <see cref="PasidState.TableLeaves"/>). Only where the groups changed.
    /// </summary>
    private ModelState RecordPagingAttached(ModelState before)
    {
        if (ReferenceEquals(groups, before.groups)) return this;
        var next = groups;
        foreach (var (id, g) in groups)
        {
            if (!KeepsFirstAttach(g)) continue;
            var seen = g.PagingAttached;
            foreach (var dev in g.Members)
                if (!seen.Contains(dev) && HardwareOf(g, dev).Domain is { } hw && TakesFirstAttach(g, hw))
                    seen = seen.Add(dev);
            if (!ReferenceEquals(seen, g.PagingAttached)) next = next.SetItem(id, g with { PagingAttached = seen });
        }
        return ReferenceEquals(next, groups) ? this : With(groups: next);
    }

    /// <summary>The line of an injected attach failure met by member <paramref name="index"/>'s ask (a refusal's), or by any member's (-1: MUST_SUCCEED asks them all).</summary>
    private string[] AttachLineMet(GroupState g, DomainRef? target, int index = -1)
    {
        if (AttachMark?.At is null || target is not { } t) return [];
        var i = 0;
        foreach (var dev in MemberSpecs(g))
        {
            if ((index < 0 || i == index) && AttachMark.At == (t, g.Default) && InjectedAttach(g, dev, t) is { } line) return [line];
            i++;
        }
        return [];
    }

    /// <summary>The index (in probe order) of the first member that refuses <paramref name="target"/>, with its errno; -1 and OK when all accept.</summary>
    private (int Index, Errno Errno) FirstRefusal(GroupState g, DomainRef target)
    {
        var i = 0;
        foreach (var dev in MemberSpecs(g))
        {
            var errno = DeviceAccepts(g, dev, target);
            if (errno != Errno.OK) return (i, errno);
            i++;
        }
        return (-1, Errno.OK);
    }

    /// <summary>Every member in probe order accepts <paramref name="target"/>: OK, or the first refusal.</summary>
    private Errno MembersAccept(GroupState g, DomainRef target) => FirstRefusal(g, target).Errno;

    /// <summary>What a member's hardware is on: its <see cref="GroupState.Lagging"/> entry, else the group's current domain (nothing while that is null).</summary>
    private HardwareDomain HardwareOf(GroupState g, string dev) =>
        g.Lagging.TryGetValue(dev, out var hw) ? hw : g.Current is { } current ? On(current) : HardwareDomain.Unattached;

    /// <summary>The hardware entry of a device attached to <paramref name="target"/> (a user domain with its allocation sequence).</summary>
    private HardwareDomain On(DomainRef target) =>
        new(target, target.Role == DomainRole.User && domains.TryGetValue(target.Handle ?? "", out var user) ? user.Seq : -1);

    /// <summary>
    /// The err_revert loop of <c>__iommu_group_set_domain_internal</c> after member <paramref name="failed"/> refused
    /// <paramref name="target"/>: members 0..failed (inclusive) are moved back to <c>group->domain</c> with MUST_SUCCEED,
    /// and each refusal is a <see cref="Warn.SetDomainRevertFailed"/>. A member before the failed one that refuses
    /// keeps the target it had taken (<paramref name="taken"/>, what its hardware is on now); the failed member keeps
    /// what it had. Without a current domain (first attach) nothing is reverted: the members before the failed one
    /// stay on the target. <paramref name="g"/> is the group as it was before the switch (its old default decides what
    /// is BLOCKED-typed); the result is that group with its members' hardware as the revert left it.
    /// </summary>
    private (GroupState Group, string[] Warnings) Revert(GroupState g, int failed, HardwareDomain taken)
    {
        var lagging = g.Lagging;
        var warnings = new List<string>();
        var i = 0;
        foreach (var dev in MemberSpecs(g).Take(failed + 1))
        {
            var tookTarget = i++ < failed;
            if (g.Current is not { } current)
            {
                if (tookTarget) lagging = lagging.SetItem(dev.Name, taken);
            }
            else if (DeviceAccepts(g, dev, current) == Errno.OK) lagging = lagging.Remove(dev.Name);
            else
            {
                if (InjectedAttach(g, dev, current) is { } line) warnings.Add(line);
                warnings.Add(Warn.SetDomainRevertFailed);
                if (tookTarget) lagging = lagging.SetItem(dev.Name, taken);
            }
        }
        return (ReferenceEquals(lagging, g.Lagging) ? g : g with { Lagging = lagging }, [.. warnings]);
    }

    /// <summary>
    /// <c>__iommu_group_set_domain</c>: the current domain again → OK with no driver call; else every member
    /// switches (all members' hardware on the target), or the first refusal is returned, the switched members are
    /// reverted (<see cref="Revert"/>) and the group keeps its domain (its members' hardware as the revert left it).
    /// </summary>
    private (Errno Errno, GroupState Group, string[] Warnings) SetDomain(GroupState g, DomainRef target)
    {
        if (g.Current == target) return (Errno.OK, g, []);
        var (failed, errno) = FirstRefusal(g, target);
        if (errno == Errno.OK) return (errno, g with { Current = target, Lagging = GroupState.NoLag }, []);
        var (reverted, warnings) = Revert(PagingTaken(g, g, target, failed), failed, On(target));
        return (errno, reverted, [.. AttachLineMet(g, target, failed), .. warnings]);
    }

    /// <summary>
    /// <c>__iommu_group_set_domain_nofail</c> (MUST_SUCCEED): the group always ends on <paramref name="target"/>;
    /// a refusal by a member raises <see cref="Warn.SetDomainNoFailFailed"/>, and the refusing member's hardware stays
    /// where it was (<see cref="RefusersKeep"/>).
    /// </summary>
    private (GroupState Group, string[] Warnings) SetDomainNoFail(GroupState g, DomainRef? target)
    {
        if (g.Current == target) return (g, []);
        // WARN_ON(!new_domain) → -EINVAL, which the nofail wrapper warns about in turn; the group stays put.
        if (target is null) return (g, [Warn.SetDomainNullDomain, Warn.SetDomainNoFailFailed]);
        var lagging = RefusersKeep(g, g, target);
        var warnings = lagging.IsEmpty ? Array.Empty<string>() : [.. AttachLineMet(g, target), Warn.SetDomainNoFailFailed];
        return (g with { Current = target, Lagging = lagging }, warnings);
    }

    /// <summary>
    /// A MUST_SUCCEED switch of every member to <paramref name="target"/> (the loop goes on past a refusal): the
    /// members that refuse keep the hardware they had in <paramref name="before"/>; the others are on the target.
    /// <paramref name="g"/> decides what is BLOCKED-typed.
    /// </summary>
    private ImmutableSortedDictionary<string, HardwareDomain> RefusersKeep(GroupState g, GroupState before, DomainRef target)
    {
        var lagging = GroupState.NoLag;
        foreach (var dev in MemberSpecs(g))
            if (DeviceAccepts(g, dev, target) != Errno.OK) lagging = lagging.SetItem(dev.Name, HardwareOf(before, dev.Name));
        return lagging;
    }

    /// <summary>
    /// <c>iommu_setup_default_domain(group, target)</c> (docs/operations.md "Default domain type"): resolve and
    /// allocate; the same type as the current default → no-op; else the new default replaces the old one and the
    /// group moves to it; then the DMA-FQ → DMA downgrade without DEFERRED_FLUSH. Failures: resolution or allocation
    /// → the group unchanged; a refused switch from a current domain → reverted, unchanged; a refused first attach
    /// (no current domain: MUST_SUCCEED) raises <see cref="Warn.DefaultDomainFirstAttachFailed"/> and leaves the group
    /// on its new default all the same (no DMA ops setup, so no downgrade), for the caller to unwind or keep; the
    /// refusing members' hardware stays where it was (nothing, mostly). A refused switch from a current domain is
    /// reverted and the new default freed (<c>err_restore_def_domain</c>): a member that refused the revert is left on
    /// that freed domain.
    /// </summary>
    private (Errno Errno, GroupState Group, string[] Warnings) SetupDefaultDomain(GroupState g, DefaultKind? target)
    {
        var driver = DriverOf(g);
        var fault = InjectedAtDefaultDomain(g);
        var (errno, kind, fellBack, met) = DefaultDomainRules.Resolve(driver, MemberSpecs(g), target, machine.Config.DefaultDomain,
            g.Default, fault is not null);
        string[] lines = [.. met ? [fault!] : Array.Empty<string>(), .. fellBack ? [Warn.DefaultDomainFallbackDma] : Array.Empty<string>()];
        if (errno != Errno.OK) return (errno, g, lines);
        if (g.Default == kind) return (Errno.OK, g, lines);
        var switched = g with { Default = kind, Current = DomainRef.Default, Lagging = GroupState.NoLag };
        (var failed, errno) = FirstRefusal(switched, DomainRef.Default);
        if (errno == Errno.OK) return (Errno.OK, switched with { Default = kind }, lines);
        if (g.Current is null)
            return (errno, switched with { Lagging = RefusersKeep(switched, g, DomainRef.Default) },
                [.. lines, .. AttachLineMet(switched, DomainRef.Default), Warn.DefaultDomainFirstAttachFailed]);
        var (reverted, warnings) = Revert(PagingTaken(g, switched, DomainRef.Default, failed), failed, HardwareDomain.Dangling);
        return (errno, reverted, [.. lines, .. AttachLineMet(switched, DomainRef.Default, failed), .. warnings]);
    }
}
