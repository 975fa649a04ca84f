using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model.Rules;

/// <summary>
/// What one IOMMU instance's driver decides, as facts read from its <see cref="DriverCapabilities"/> (spec §2;
/// docs/operations.md "Drivers of this slice"): no vtables and no driver names, only the answers the core sees
/// from <c>probe_device</c>, the static domains, <c>def_domain_type</c>, <c>domain_alloc_paging_flags</c>,
/// <c>attach_dev</c> and <c>capable</c>.
/// </summary>
/// <param name="Instance">The IOMMU instance name.</param>
/// <param name="Caps">The driver's capabilities with the instance's options applied.</param>
public sealed record DriverFacts(string Instance, DriverCapabilities Caps)
{
    /// <summary>The facts of an instance; null for an unknown driver.</summary>
    public static DriverFacts? For(IommuSpec spec) => DriverCapabilities.For(spec) is { } caps ? new(spec.Name, caps) : null;

    /// <summary>The driver name (<c>domain->owner</c> of the domains it allocates).</summary>
    public string Driver => Caps.Driver;

    /// <summary>ops->default_domain is the static BLOCKED domain, which is also ops->blocked_domain (mock).</summary>
    public bool StaticBlockedDefault => Caps.StaticBlockedDefault;

    /// <summary>The driver can provide an identity domain.</summary>
    public bool IdentityDomain => Caps.IdentityDomain;

    /// <summary>capable(IOMMU_CAP_DEFERRED_FLUSH).</summary>
    public bool DeferredFlush => Caps.DeferredFlush;

    /// <summary><c>def_domain_type</c> is consulted only by drivers that honour it (a static default decides otherwise).</summary>
    public bool HonoursDefDomainType => Caps.HonoursDefDomainType && !Caps.StaticBlockedDefault;

    /// <summary><c>ops->probe_device</c>: a device of a bus the driver does not take → -ENODEV.</summary>
    public Errno ProbeDevice(DeviceSpec dev) => Caps.Accepts(dev.Bus) ? Errno.OK : Errno.ENODEV;

    /// <summary>
    /// <c>domain_alloc_paging_flags</c>: dirty tracking needs a driver that has it and a device that is not
    /// <c>noDirty</c>. A refused or unknown flag → -EOPNOTSUPP.
    /// </summary>
    public Errno AllocPaging(DeviceSpec dev, string? flags) => flags switch
    {
        null => Errno.OK,
        AllocFlags.DirtyTracking when Caps.DirtyTracking && !dev.NoDirty => Errno.OK,
        _ => Errno.EOPNOTSUPP,
    };

    /// <summary>
    /// <c>attach_dev</c> of one of the trace's paging domains (the owner check has passed): a domain finalised on
    /// another instance (<see cref="DriverCapabilities.DomainPerInstance"/>), or a dirty-tracking domain on a
    /// <c>noDirty</c> device → -EINVAL. Static blocked and identity domains always attach.
    /// </summary>
    public Errno AttachUserDomain(UserDomain domain, DeviceSpec dev)
    {
        if (Caps.DomainPerInstance && domain.Iommu != dev.Iommu) return Errno.EINVAL;
        if (domain.DirtyTracking && dev.NoDirty) return Errno.EINVAL;
        return Errno.OK;
    }

    /// <summary>
    /// The device's <c>def_domain_type</c> answer: its <c>defDomainType</c> when the driver honours it; null (no
    /// preference) otherwise. A static default is accounted for by <see cref="DefaultDomainRules"/>.
    /// </summary>
    public DefaultKind? DefDomainType(DeviceSpec dev) => !HonoursDefDomainType ? null : dev.DefDomainType switch
    {
        GroupTypeStrings.Identity => DefaultKind.Identity,
        GroupTypeStrings.Dma => DefaultKind.Dma,
        _ => null,
    };
}
