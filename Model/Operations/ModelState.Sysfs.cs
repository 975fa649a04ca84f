using IommuConformance.Contract;
using IommuConformance.Model.Rules;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>What a device's group shows: <c>get_domain</c>, and the sysfs <c>type</c> file.</summary>
public sealed partial class ModelState
{
    /// <summary>
    /// <c>get_domain {dev}</c> — <c>iommu_get_domain_for_dev</c>, by name: a user domain's handle,
    /// <c>default</c> (also when the blocking domain is the default, as on mock), <c>blocking</c>, or
    /// <c>none</c> (no group, or no domain). Always OK.
    /// </summary>
    private ModelStep GetDomainForDev(GetDomain op) => Value(DomainName(GroupFor(op.Dev)?.Current));

    /// <summary>
    /// <c>group_type_read {dev}</c> — sysfs <c>type</c> show: <c>blocked</c>, <c>identity</c>, <c>DMA</c>,
    /// <c>DMA-FQ</c>, or <c>unknown</c> without a default domain. No group → ENODEV.
    /// </summary>
    private ModelStep GroupTypeShow(GroupTypeRead op) =>
        GroupFor(op.Dev) is { } g ? Value(DefaultKinds.SysfsName(g.Default)) : Fail(Errno.ENODEV);

    /// <summary>
    /// <c>group_type_write {dev, type}</c> — <c>iommu_group_store_type</c>, as the machine's era has it
    /// (<see cref="SystemConfig.Era"/>; docs/real-kernel.md "Era"): the contract's 7.0 rules, or 6.1's on request.
    /// </summary>
    private ModelStep GroupTypeStore(GroupTypeWrite op) => machine.Config.Era switch
    {
        KernelEra.V6_1 => GroupTypeStore61(op),
        _ => GroupTypeStore70(op),
    };

    /// <summary>
    /// 7.0 <c>iommu_group_store_type</c>. No group → ENODEV; no default domain or
    /// a type other than <c>identity</c>, <c>DMA</c>, <c>DMA-FQ</c>, <c>auto</c> → EINVAL; <c>DMA-FQ</c> on a DMA
    /// default → flipped in place, OK, whatever the owners and DEFERRED_FLUSH; <c>owner_cnt != 0</c> → EPERM;
    /// else <c>iommu_setup_default_domain</c> with the target (<c>auto</c> = 0), whose errno is returned.
    /// On failure nothing changes.
    /// </summary>
    private ModelStep GroupTypeStore70(GroupTypeWrite op)
    {
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        if (g.Default is null || !DefaultKinds.TryParseSysfs(op.Type, out var target)) return Fail(Errno.EINVAL);
        if (target == DefaultKind.DmaFq && g.Default == DefaultKind.Dma)
            return Ok(WithGroup(g with { Default = DefaultKind.DmaFq }));
        if (g.OwnerCount != 0) return Fail(Errno.EPERM);
        return SetupFromSysfs(g, target);
    }

    /// <summary>
    /// 6.1 <c>iommu_group_store_type</c> and <c>iommu_change_dev_def_domain</c> (Linux 6.1, drivers/iommu/iommu.c).
    /// No group → ENODEV; no default domain or an unknown type → EINVAL; a group of more than one device → EINVAL,
    /// whatever the type ("Group has more than one device"); the device bound to a driver → EBUSY ("Device is still
    /// bound to driver"), except DMA → DMA-FQ: a DMA-API driver, or the VFIO user that holds the group (through
    /// vfio-pci); the group not on its default domain → EBUSY ("Group not assigned to default domain"); then the type
    /// (<c>auto</c>: the device's own, else the global), a conflict with the device's → EINVAL; the same type as the
    /// default → OK, unchanged; DMA → DMA-FQ → flipped in place; else a new default domain of that type.
    /// </summary>
    private ModelStep GroupTypeStore61(GroupTypeWrite op)
    {
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        if (g.Default is null || !DefaultKinds.TryParseSysfs(op.Type, out var target)) return Fail(Errno.EINVAL);
        if (g.Members.Count != 1) return Fail(Errno.EINVAL);
        var flip = target == DefaultKind.DmaFq && g.Default == DefaultKind.Dma;
        var driverBound = bound.Contains(g.Members[0]) || g.Owner is not null;
        if (driverBound && !flip) return Fail(Errno.EBUSY);
        if (g.Current != DefaultOf(g)) return Fail(Errno.EBUSY);
        var (ok, requested) = DefaultDomainRules.RequestedType(DriverOf(g), MemberSpecs(g), target);
        if (!ok) return Fail(Errno.EINVAL);
        var type = requested ?? DefaultKinds.From(machine.Config.DefaultDomain);
        if (type == g.Default) return Ok(this);
        if (type == DefaultKind.DmaFq && g.Default == DefaultKind.Dma)
            return Ok(WithGroup(g with { Default = DefaultKind.DmaFq }));
        return SetupFromSysfs(g, target);
    }

    /// <summary>
    /// <c>iommu_setup_default_domain</c> for a sysfs target: its errno and warnings; on failure nothing changes but the
    /// hardware of a member that refused the revert.
    /// </summary>
    private ModelStep SetupFromSysfs(GroupState g, DefaultKind? target)
    {
        var (errno, next, warnings) = SetupDefaultDomain(g, target);
        if (errno != Errno.OK) return FailLeaving(errno, g, next, warnings);
        return ReferenceEquals(next, g) ? Ok(this, warnings) : Ok(WithGroup(next), warnings);
    }
}
