using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model.Rules;

/// <summary>Whether a domain may be attached to a device: the core's two gatekeepers and the driver's own rule.</summary>
public static class Compatibility
{
    /// <summary>
    /// The owner check of <c>__iommu_attach_group</c> (a9c362db3920 "iommu: Validate that devices match domains"):
    /// <c>domain->owner != dev_iommu_ops(first device)</c> → -EINVAL.
    /// </summary>
    public static Errno OwnerCheck(UserDomain domain, DriverFacts groupDriver) =>
        domain.Driver == groupDriver.Driver ? Errno.OK : Errno.EINVAL;

    /// <summary>
    /// <c>__iommu_device_set_domain</c> for one device: a <c>require_direct</c> device refuses a BLOCKED-typed or
    /// blocking domain (-EINVAL); then the driver's <c>attach_dev</c>, which only ever refuses one of the trace's
    /// paging domains (<paramref name="user"/>; null for the core's default, blocking and identity domains).
    /// </summary>
    public static Errno DeviceAccepts(DriverFacts driver, DeviceSpec dev, bool blockedTyped, UserDomain? user)
    {
        if (dev.RequireDirect && blockedTyped) return Errno.EINVAL;
        return user is null ? Errno.OK : driver.AttachUserDomain(user, dev);
    }
}
