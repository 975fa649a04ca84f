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

    /// <summary><c>__iommu_device_set_domain</c> for one device of the group: OK or the device's refusal.</summary>
    private Errno DeviceAccepts(GroupState g, DeviceSpec dev, DomainRef target)
    {
        UserDomain? user = null;
        if (target.Role == DomainRole.User && !domains.TryGetValue(target.Handle ?? "", out user)) return Errno.ENOENT;
        return Compatibility.DeviceAccepts(DriverOf(g), dev, IsBlockedTyped(g, target), user);
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

    /// <summary>
    /// The err_revert loop of <c>__iommu_group_set_domain_internal</c> after member <paramref name="failed"/> refused:
    /// members 0..failed (inclusive) are moved back to <c>group->domain</c> with MUST_SUCCEED, and each refusal is a
    /// <see cref="Warn.SetDomainRevertFailed"/>. Without a current domain (first attach) nothing is reverted.
    /// <paramref name="g"/> is the group as it was before the switch (its old default decides what is BLOCKED-typed).
    /// </summary>
    private string[] RevertWarnings(GroupState g, int failed)
    {
        if (g.Current is not { } current) return [];
        return [.. MemberSpecs(g).Take(failed + 1).Where(dev => DeviceAccepts(g, dev, current) != Errno.OK)
            .Select(_ => Warn.SetDomainRevertFailed)];
    }

    /// <summary>
    /// <c>__iommu_group_set_domain</c>: the current domain again → OK with no driver call; else every member
    /// switches, or the first refusal is returned, the switched members are reverted (<see cref="RevertWarnings"/>)
    /// and the group keeps its domain.
    /// </summary>
    private (Errno Errno, GroupState Group, string[] Warnings) SetDomain(GroupState g, DomainRef target)
    {
        if (g.Current == target) return (Errno.OK, g, []);
        var (failed, errno) = FirstRefusal(g, target);
        return errno == Errno.OK ? (errno, g with { Current = target }, []) : (errno, g, RevertWarnings(g, failed));
    }

    /// <summary>
    /// <c>__iommu_group_set_domain_nofail</c> (MUST_SUCCEED): the group always ends on <paramref name="target"/>;
    /// a refusal by a member raises <see cref="Warn.SetDomainNoFailFailed"/>.
    /// </summary>
    private (GroupState Group, string[] Warnings) SetDomainNoFail(GroupState g, DomainRef? target)
    {
        if (g.Current == target) return (g, []);
        // WARN_ON(!new_domain) → -EINVAL, which the nofail wrapper warns about in turn; the group stays put.
        if (target is null) return (g, [Warn.SetDomainNullDomain, Warn.SetDomainNoFailFailed]);
        var warnings = MembersAccept(g, target) == Errno.OK ? Array.Empty<string>() : [Warn.SetDomainNoFailFailed];
        return (g with { Current = target }, warnings);
    }

    /// <summary>
    /// <c>iommu_setup_default_domain(group, target)</c> (docs/operations.md "Default domain type"): resolve and
    /// allocate; the same type as the current default → no-op; else the new default replaces the old one and the
    /// group moves to it; then the DMA-FQ → DMA downgrade without DEFERRED_FLUSH. Failures: resolution or allocation
    /// → the group unchanged; a refused switch from a current domain → reverted, unchanged; a refused first attach
    /// (no current domain: MUST_SUCCEED) raises <see cref="Warn.DefaultDomainFirstAttachFailed"/> and leaves the group
    /// on its new default all the same (no DMA ops setup, so no downgrade), for the caller to unwind or keep.
    /// </summary>
    private (Errno Errno, GroupState Group, string[] Warnings) SetupDefaultDomain(GroupState g, DefaultKind? target)
    {
        var driver = DriverOf(g);
        var (errno, kind) = DefaultDomainRules.Resolve(driver, MemberSpecs(g), target, machine.Config.DefaultDomain);
        if (errno != Errno.OK) return (errno, g, []);
        if (g.Default == kind) return (Errno.OK, g, []);
        var switched = g with { Default = kind, Current = DomainRef.Default };
        (var failed, errno) = FirstRefusal(switched, DomainRef.Default);
        if (errno != Errno.OK)
            return g.Current is null ? (errno, switched, [Warn.DefaultDomainFirstAttachFailed]) : (errno, g, RevertWarnings(g, failed));
        return (Errno.OK, switched with { Default = DefaultDomainRules.AfterDmaOpsSetup(driver, kind) }, []);
    }
}
