using IommuConformance.Contract;
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
    /// <c>group_type_write {dev, type}</c> — <c>iommu_group_store_type</c>. No group → ENODEV; no default domain or
    /// a type other than <c>identity</c>, <c>DMA</c>, <c>DMA-FQ</c>, <c>auto</c> → EINVAL; <c>DMA-FQ</c> on a DMA
    /// default → flipped in place, OK, whatever the owners and DEFERRED_FLUSH; <c>owner_cnt != 0</c> → EPERM;
    /// else <c>iommu_setup_default_domain</c> with the target (<c>auto</c> = 0), whose errno is returned.
    /// On failure nothing changes.
    /// </summary>
    private ModelStep GroupTypeStore(GroupTypeWrite op)
    {
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        if (g.Default is null || !DefaultKinds.TryParseSysfs(op.Type, out var target)) return Fail(Errno.EINVAL);
        if (target == DefaultKind.DmaFq && g.Default == DefaultKind.Dma)
            return Ok(WithGroup(g with { Default = DefaultKind.DmaFq }));
        if (g.OwnerCount != 0) return Fail(Errno.EPERM);

        var (errno, next, warnings) = SetupDefaultDomain(g, target);
        if (errno != Errno.OK) return Fail(errno, warnings);
        return ReferenceEquals(next, g) ? Ok(this, warnings) : Ok(WithGroup(next), warnings);
    }
}
