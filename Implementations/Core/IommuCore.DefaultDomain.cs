using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Contract;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Core;

public sealed partial class IommuCore
{
    /// <summary>
    /// iommu_setup_default_domain() - pick the default domain type, allocate (or reuse) it and move the group
    /// onto it. <paramref name="targetType"/> is the sysfs request, 0 for "auto"/probe. On failure the group
    /// keeps its old default and domain, except a failed first attach under MUST_SUCCEED (warned).
    /// </summary>
    private Errno SetupDefaultDomainLocked(IommuGroup group, DomainType targetType)
    {
        AssertLocked(group);
        var oldDom = group.DefaultDomain;

        if (GetDefaultDomainTypeLocked(group, targetType) is not { } reqType) return EINVAL;
        var ret = GroupAllocDefaultDomainLocked(group, reqType, out var dom);
        if (ret != OK) return ret;
        if (group.DefaultDomain == dom) return OK;

        // Set default_domain early: __iommu_device_set_domain() compares against it.
        group.DefaultDomain = dom;
        if (group.Domain is null)
        {
            // Drivers are not allowed to fail the first attach; the domain stays as default so release frees it.
            ret = GroupSetDomainInternalLocked(group, dom!, SetDomainFlags.MustSucceed);
            if (ret != OK)
            {
                WarnOn(Warn.DefaultDomainFirstAttachFailed);
                goto out_free_old;
            }
        }
        else
        {
            ret = SetDomainLocked(group, dom!);
            if (ret != OK) goto err_restore_def_domain;
        }

    out_free_old:
        // Seeded bug default_domain_replace_leaks_old: the replaced default domain is never freed.
        if (oldDom is not null && !Bugs.IsOn(BugCatalogue.DefaultDomainReplaceLeaksOld)) DomainFree(oldDom);
        return ret;

    err_restore_def_domain:
        group.DefaultDomain = oldDom;
        DomainFree(dom!);
        return ret;
    }

    /// <summary>
    /// iommu_get_default_domain_type() - combine the members' driver preferences, force DMA for untrusted PCI
    /// devices, check a sysfs target against both. Return: the type (0 = use the global default) or null
    /// when the requirements conflict (the caller answers -EINVAL).
    /// </summary>
    private DomainType? GetDefaultDomainTypeLocked(IommuGroup group, DomainType targetType)
    {
        AssertLocked(group);
        var driverType = DomainTypes.NoPreference;
        Device? untrusted = null;
        foreach (var gdev in group.Devices)
        {
            driverType = GetDefDomainTypeOf(gdev.Dev, driverType);
            // Seeded bug untrusted_not_forced_dma: the untrusted test is forgotten.
            if (gdev.Dev.IsUntrustedPci && !Bugs.IsOn(BugCatalogue.UntrustedNotForcedDma))
                untrusted = gdev.Dev;
        }

        if (untrusted is not null)
        {
            // An untrusted device is never left without translation, nor given a flush queue.
            if (driverType != DomainTypes.NoPreference && driverType != DomainType.Dma) return null;
            driverType = DomainType.Dma;
        }

        if (targetType != DomainTypes.NoPreference)
        {
            if (driverType != DomainTypes.NoPreference && targetType != driverType) return null;
            return targetType;
        }
        return driverType;
    }

    // iommu_get_def_domain_type(): one device's preference folded into the group's; IDENTITY wins a conflict.
    private static DomainType GetDefDomainTypeOf(Device dev, DomainType curType)
    {
        var ops = dev.Iommu!.IommuDev.Ops;
        // A static default_domain always decides; its BLOCKED type is 0, i.e. "no preference", as in the kernel.
        var type = ops.DefaultDomain is { } staticDefault ? staticDefault.Type : ops.DefDomainType(dev);
        if (type == DomainTypes.NoPreference || curType == type) return curType;
        if (curType == DomainTypes.NoPreference) return type;
        return type == DomainType.Identity ? DomainType.Identity : curType;
    }

    // iommu_group_alloc_default_domain(): a static default, the requested type, or the global default with
    // a fall back to DMA.
    private Errno GroupAllocDefaultDomainLocked(IommuGroup group, DomainType reqType, out IommuDomain? dom)
    {
        AssertLocked(group);
        var ops = group.FirstDev.Iommu!.IommuDev.Ops;

        // Legacy drivers (and the mock) name the domain that is always the default.
        if (ops.DefaultDomain is { } staticDefault)
        {
            dom = reqType == staticDefault.Type ? staticDefault : null;
            return dom is null ? EINVAL : OK;
        }
        if (reqType != DomainTypes.NoPreference) return AllocDefaultDomainOfTypeLocked(group, reqType, out dom);

        // The driver gave no guidance: try the global default, then (IDENTITY and DMA-FQ) DMA. A failed DMA default
        // answers -EINVAL, whatever the allocation's errno, as the kernel does.
        var ret = AllocDefaultDomainOfTypeLocked(group, DefDomainType, out dom);
        if (ret == OK) return OK;
        if (DefDomainType == DomainType.Dma) return EINVAL;
        ret = AllocDefaultDomainOfTypeLocked(group, DomainType.Dma, out dom);
        if (ret != OK) return ret;
        Warnings.Warn(Warn.DefaultDomainFallbackDma);   // pr_warn "... - Falling back to IOMMU_DOMAIN_DMA"
        return OK;
    }

    // __iommu_group_alloc_default_domain(): allocated for the first device so that every member can use it.
    // Only paging and identity types get here (def_domain_type, sysfs and the global default name no other).
    private Errno AllocDefaultDomainOfTypeLocked(IommuGroup group, DomainType reqType, out IommuDomain? dom)
    {
        AssertLocked(group);
        var dev = group.FirstDev;
        if (group.DefaultDomain is { } current && current.Type == reqType)
        {
            dom = current;
            return OK;
        }
        if (!reqType.IsPaging()) return AllocIdentityDomain(dev, out dom);
        // Assume the DMA API will use PASIDs: ask for a PASID-capable domain. (The kernel retries without the
        // flag on -EOPNOTSUPP; both drivers here accept it, so the retry is left out.)
        var flags = dev.Iommu!.MaxPasids > 0 ? HwptAllocFlags.Pasid : HwptAllocFlags.None;
        return PagingDomainAllocFlags(dev, reqType, flags, out dom);
    }

    // iommu_setup_dma_ops(dev, group->default_domain): the DMA ops follow the group's default domain, not
    // group->domain (which may be a user or the blocking domain when a device is hot-added into an owned group).
    private void SetupDmaOps(Device dev, IommuDomain defaultDomain) => Dma.SetupDmaOps(dev, defaultDomain);
}
