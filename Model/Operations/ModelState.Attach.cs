using IommuConformance.Contract;
using IommuConformance.Model.Rules;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>RID attach and detach of the trace's paging domains: the device and the group variants.</summary>
public sealed partial class ModelState
{
    /// <summary>
    /// <c>attach_device {domain, dev}</c> — <c>iommu_attach_device</c>: not live → ENOENT; no group → ENODEV;
    /// a group of ≠ 1 device → EINVAL; then as <c>attach_group</c>. On failure nothing changes.
    /// </summary>
    private ModelStep AttachDevice(AttachDevice op)
    {
        if (!domains.TryGetValue(op.Domain, out var domain)) return Fail(Errno.ENOENT);
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        if (g.Members.Count != 1) return Fail(Errno.EINVAL);
        return AttachToGroup(domain, g);
    }

    /// <summary>
    /// <c>attach_group {domain, dev}</c> — <c>iommu_attach_group</c> on the device's group: not live → ENOENT;
    /// no group → ENODEV; then <c>__iommu_attach_group</c>. On failure nothing changes.
    /// </summary>
    private ModelStep AttachGroup(AttachGroup op)
    {
        if (!domains.TryGetValue(op.Domain, out var domain)) return Fail(Errno.ENOENT);
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        return AttachToGroup(domain, g);
    }

    /// <summary>
    /// <c>__iommu_attach_group</c>: the current domain is neither default nor blocking → EBUSY (also the same
    /// domain again); another driver's domain → EINVAL (owner check); then every member's driver attach — a
    /// refusal (smmuv3: domain of another instance; mock: dirty tracking on a <c>noDirty</c> device) is returned
    /// and the group keeps its domain (the revert may warn).
    /// </summary>
    private ModelStep AttachToGroup(UserDomain domain, GroupState g)
    {
        if (g.Current is { } current && current != DefaultOf(g) && current != BlockingOf(g))
            return Fail(Errno.EBUSY);
        var owner = Compatibility.OwnerCheck(domain, DriverOf(g));
        if (owner != Errno.OK) return Fail(owner);
        var (errno, next, warnings) = SetDomain(g, DomainRef.User(domain.Handle));
        return errno == Errno.OK ? Ok(WithGroup(next)) : FailLeaving(errno, g, next, warnings);
    }

    /// <summary>
    /// <c>detach_device {domain, dev}</c> — <c>iommu_detach_device</c>: not live → ENOENT; no group → OK, nothing;
    /// <c>domain != group->domain</c> → <see cref="Warn.DetachDeviceDomainMismatch"/>, nothing else; a group of
    /// ≠ 1 device → <see cref="Warn.DetachDeviceNotSingleton"/>, nothing else; else the core domain (blocking if
    /// owned, else default) with MUST_SUCCEED. Always OK once the handle is live.
    /// </summary>
    private ModelStep DetachDevice(DetachDevice op)
    {
        if (!domains.ContainsKey(op.Domain)) return Fail(Errno.ENOENT);
        if (GroupFor(op.Dev) is not { } g) return Ok(this);
        if (g.Current != DomainRef.User(op.Domain)) return Ok(this, Warn.DetachDeviceDomainMismatch);
        if (g.Members.Count != 1) return Ok(this, Warn.DetachDeviceNotSingleton);
        return SetCoreDomain(g);
    }

    /// <summary>
    /// <c>detach_group {domain, dev}</c> — <c>iommu_detach_group</c>: not live → ENOENT; no group → ENODEV; else
    /// the core domain with MUST_SUCCEED, whatever the domain argument. OK.
    /// </summary>
    private ModelStep DetachGroup(DetachGroup op)
    {
        if (!domains.ContainsKey(op.Domain)) return Fail(Errno.ENOENT);
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        return SetCoreDomain(g);
    }

    /// <summary><c>__iommu_group_set_core_domain</c>: blocking when owned, else default; never fails (warns).</summary>
    private ModelStep SetCoreDomain(GroupState g)
    {
        var (next, warnings) = SetDomainNoFail(g, CoreDomainOf(g));
        return ReferenceEquals(next, g) ? Ok(this, warnings) : Ok(WithGroup(next), warnings);
    }
}
