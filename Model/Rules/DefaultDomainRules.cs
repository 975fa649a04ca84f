using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model.Rules;

/// <summary>
/// The default-domain type resolution of <c>iommu_setup_default_domain</c> (docs/operations.md "Default domain
/// type", steps 1–4 and 6): <c>iommu_get_default_domain_type</c>, <c>iommu_group_alloc_default_domain</c> and the
/// DMA-FQ downgrade of <c>iommu_dma_init_domain</c>. Step 5 (reuse) is the caller's.
/// </summary>
public static class DefaultDomainRules
{
    /// <summary>
    /// The type of default domain the group gets for a sysfs <paramref name="target"/> (null = 0: probe or
    /// <c>auto</c>), or the errno: EINVAL for a conflict with the driver or an untrusted PCI member, EOPNOTSUPP
    /// for an identity domain the driver cannot provide.
    /// </summary>
    public static (Errno Errno, DefaultKind Kind) Resolve(
        DriverFacts driver, IEnumerable<DeviceSpec> members, DefaultKind? target, DefaultDomainType global)
    {
        var r = Resolve(driver, members, target, global, current: null, allocFails: false);
        return (r.Errno, r.Kind);
    }

    /// <summary>
    /// <see cref="Resolve(DriverFacts, IEnumerable{DeviceSpec}, DefaultKind?, DefaultDomainType)"/> with the allocation
    /// facts: a type equal to <paramref name="current"/> is reused, not allocated; with <paramref name="allocFails"/> the
    /// first paging allocation fails (<c>fail_nth</c> met in the domain or its cookie: -ENOMEM), once. A requested type
    /// answers that failure; the global default falls back to DMA (<c>FellBack</c>: the "Falling back to
    /// IOMMU_DOMAIN_DMA" line), except a DMA default, which answers -EINVAL. <c>FaultMet</c>: the failure happened.
    /// </summary>
    public static (Errno Errno, DefaultKind Kind, bool FellBack, bool FaultMet) Resolve(
        DriverFacts driver, IEnumerable<DeviceSpec> members, DefaultKind? target, DefaultDomainType global,
        DefaultKind? current, bool allocFails)
    {
        var (ok, requested) = RequestedType(driver, members, target);
        if (!ok) return (Errno.EINVAL, default, false, false);
        if (driver.StaticBlockedDefault)
            return requested is null or DefaultKind.Blocked ? (Errno.OK, DefaultKind.Blocked, false, false) : (Errno.EINVAL, default, false, false);
        var met = false;
        Errno Alloc(DefaultKind kind)
        {
            if (kind == current) return Errno.OK;   // __iommu_group_alloc_default_domain() reuses the default of that type
            var r = Allocate(driver, kind);
            if (r != Errno.OK || !allocFails || met || kind is not (DefaultKind.Dma or DefaultKind.DmaFq)) return r;
            met = true;
            return Errno.ENOMEM;
        }
        if (requested is { } kind) { var r = Alloc(kind); return (r, kind, false, met); }
        var globalKind = DefaultKinds.From(global);
        if (Alloc(globalKind) == Errno.OK) return (Errno.OK, globalKind, false, met);
        if (globalKind == DefaultKind.Dma) return (Errno.EINVAL, default, false, met);
        var dma = Alloc(DefaultKind.Dma);
        return (dma, DefaultKind.Dma, dma == Errno.OK, met);
    }

    /// <summary>
    /// <c>iommu_get_default_domain_type</c>: the driver's type (a static default's own type, else the members'
    /// <c>def_domain_type</c> combined, a conflict resolving to identity), forced to DMA by an untrusted PCI member,
    /// then checked against the sysfs target. False on a conflict; null type = no preference.
    /// </summary>
    public static (bool Ok, DefaultKind? Type) RequestedType(
        DriverFacts driver, IEnumerable<DeviceSpec> members, DefaultKind? target)
    {
        DefaultKind? driverType = driver.StaticBlockedDefault ? DefaultKind.Blocked : null;
        var untrusted = false;
        foreach (var dev in members)
        {
            if (driver.DefDomainType(dev) is { } type && driverType != type)
                driverType = driverType is null ? type : DefaultKind.Identity;
            untrusted |= dev.Untrusted && dev.Bus == BusNames.Pci;
        }
        if (untrusted)
        {
            if (driverType is not null && driverType != DefaultKind.Dma) return (false, null);
            driverType = DefaultKind.Dma;
        }
        if (target is null) return (true, driverType);
        return driverType is not null && driverType != target ? (false, null) : (true, target);
    }

    /// <summary>
    /// <c>__iommu_group_alloc_default_domain</c> of a driver without a static default: paging types always
    /// allocate; identity needs an identity domain (else -EOPNOTSUPP); any other type -EINVAL.
    /// </summary>
    public static Errno Allocate(DriverFacts driver, DefaultKind kind) => kind switch
    {
        DefaultKind.Dma or DefaultKind.DmaFq => Errno.OK,
        DefaultKind.Identity => driver.IdentityDomain ? Errno.OK : Errno.EOPNOTSUPP,
        _ => Errno.EINVAL,
    };

    /// <summary>
    /// <c>iommu_dma_init_domain</c> on a freshly set-up default domain: DMA-FQ without DEFERRED_FLUSH becomes DMA.
    /// </summary>
    public static DefaultKind AfterDmaOpsSetup(DriverFacts driver, DefaultKind kind) =>
        kind == DefaultKind.DmaFq && !driver.DeferredFlush ? DefaultKind.Dma : kind;
}
