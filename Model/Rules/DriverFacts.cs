using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model.Rules;

/// <summary>
/// What one IOMMU instance's driver decides, as facts (docs/operations.md "Drivers of this slice"):
/// no vtables, only the answers the core sees from <c>probe_device</c>, the static domains,
/// <c>def_domain_type</c>, <c>domain_alloc_paging_flags</c>, <c>attach_dev</c> and <c>capable</c>.
/// </summary>
/// <param name="Driver">The driver name (<c>domain->owner</c> of the domains it allocates).</param>
/// <param name="Instance">The IOMMU instance name.</param>
/// <param name="StaticBlockedDefault">ops->default_domain is the static BLOCKED domain, which is also ops->blocked_domain (mock).</param>
/// <param name="IdentityDomain">The driver can provide an identity domain.</param>
/// <param name="DeferredFlush">capable(IOMMU_CAP_DEFERRED_FLUSH).</param>
public sealed record DriverFacts(
    string Driver, string Instance, bool StaticBlockedDefault, bool IdentityDomain, bool DeferredFlush)
{
    /// <summary>The facts of an instance, reading its options over the driver table's defaults; null for an unknown driver.</summary>
    public static DriverFacts? For(IommuSpec spec) => spec.Driver switch
    {
        DriverNames.Smmuv3 => new(spec.Driver, spec.Name, StaticBlockedDefault: false,
            IdentityDomain: spec.Options.IdentityDomain ?? true, DeferredFlush: spec.Options.DeferredFlush ?? true),
        DriverNames.Mock => new(spec.Driver, spec.Name, StaticBlockedDefault: true,
            IdentityDomain: false, DeferredFlush: false),
        _ => null,
    };

    /// <summary><c>def_domain_type</c> is consulted only by drivers without a static default domain.</summary>
    public bool HonoursDefDomainType => !StaticBlockedDefault;

    /// <summary><c>ops->probe_device</c>: smmuv3 takes pci and platform devices, mock only platform ones; else -ENODEV.</summary>
    public Errno ProbeDevice(DeviceSpec dev) => Driver switch
    {
        DriverNames.Smmuv3 => dev.Bus is BusNames.Pci or BusNames.Platform ? Errno.OK : Errno.ENODEV,
        DriverNames.Mock => dev.Bus == BusNames.Platform ? Errno.OK : Errno.ENODEV,
        _ => Errno.ENODEV,
    };

    /// <summary>
    /// <c>domain_alloc_paging_flags</c>: smmuv3 supports no flag (no HTTU); mock supports dirty tracking unless the
    /// device is <c>noDirty</c>. A refused or unknown flag → -EOPNOTSUPP.
    /// </summary>
    public Errno AllocPaging(DeviceSpec dev, string? flags) => flags switch
    {
        null => Errno.OK,
        AllocFlags.DirtyTracking when Driver == DriverNames.Mock && !dev.NoDirty => Errno.OK,
        _ => Errno.EOPNOTSUPP,
    };

    /// <summary>
    /// <c>attach_dev</c> of one of the trace's paging domains (the owner check has passed): smmuv3 refuses a domain
    /// finalised on another instance, mock a dirty-tracking domain on a <c>noDirty</c> device; both -EINVAL.
    /// Static blocked and identity domains always attach.
    /// </summary>
    public Errno AttachUserDomain(UserDomain domain, DeviceSpec dev) => Driver switch
    {
        DriverNames.Smmuv3 when domain.Iommu != dev.Iommu => Errno.EINVAL,
        DriverNames.Mock when domain.DirtyTracking && dev.NoDirty => Errno.EINVAL,
        _ => Errno.OK,
    };

    /// <summary>
    /// The device's <c>def_domain_type</c> answer: its <c>defDomainType</c> for smmuv3; null (no preference)
    /// otherwise. The mock's static default is accounted for by <see cref="DefaultDomainRules"/>.
    /// </summary>
    public DefaultKind? DefDomainType(DeviceSpec dev) => !HonoursDefDomainType ? null : dev.DefDomainType switch
    {
        GroupTypeStrings.Identity => DefaultKind.Identity,
        GroupTypeStrings.Dma => DefaultKind.Dma,
        _ => null,
    };
}
