using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Core;

/// <summary>IOMMU_SET_DOMAIN_* flags of __iommu_group_set_domain_internal().</summary>
[Flags]
public enum SetDomainFlags
{
    None = 0,

    /// <summary>The caller cannot handle failure: keep going, push failed devices to the blocking domain.</summary>
    MustSucceed = 1 << 0,
}

public sealed partial class IommuCore
{
    /// <summary>
    /// iommu_attach_device() - attach a domain to the single device of its group. Return: -ENODEV without a
    /// group; -EINVAL for a multi-device group; otherwise as <see cref="AttachGroup"/>.
    /// </summary>
    public Errno AttachDevice(IommuDomain domain, Device dev)
    {
        // Caller must be a probed driver on dev.
        var group = dev.Group;
        if (group is null) return ENODEV;
        // Lock the group so that the device count cannot change while we attach.
        lock (group.Mutex)
        {
            if (group.Devices.Count != 1) return EINVAL;
            return AttachGroupLocked(domain, group);
        }
    }

    /// <summary>
    /// iommu_attach_group() - attach a domain to every device of the group. Return: -EBUSY when a non-core
    /// domain is attached (even the same one); -EINVAL for another driver's domain or a driver refusal. On
    /// failure the group keeps its domain.
    /// </summary>
    public Errno AttachGroup(IommuDomain domain, IommuGroup group)
    {
        lock (group.Mutex) return AttachGroupLocked(domain, group);
    }

    // __iommu_attach_group()
    private Errno AttachGroupLocked(IommuDomain domain, IommuGroup group)
    {
        AssertLocked(group);
        // Seeded bug attach_group_replaces_user_domain: the -EBUSY rule is skipped.
        if (group.Domain is not null && group.Domain != group.DefaultDomain && group.Domain != group.BlockingDomain
            && !Bugs.IsOn(BugCatalogue.AttachGroupReplacesUserDomain))
            return EBUSY;

        // The domain must come from the group's driver (a9c362db3920 "iommu: Validate that devices match domains").
        // Seeded bug no_owner_gatekeeper: the v6.2 code had no such check.
        if (!DomainOpsCompatible(group.FirstDev.Iommu!.IommuDev.Ops, domain) && !Bugs.IsOn(BugCatalogue.NoOwnerGatekeeper))
            return EINVAL;

        return SetDomainLocked(group, domain);
    }

    // domain_iommu_ops_compatible(): allocated by these ops, or one of their static domains.
    private static bool DomainOpsCompatible(Drivers.IommuOps ops, IommuDomain domain) =>
        domain.Owner == ops.Owner || domain == ops.BlockedDomain || domain == ops.IdentityDomain;

    /// <summary>
    /// iommu_detach_device() - back to the core domain. WARNs and does nothing when the domain is not the
    /// group's or the group has several devices; silently nothing without a group.
    /// </summary>
    public void DetachDevice(IommuDomain domain, Device dev)
    {
        var group = dev.Group;
        if (group is null) return;
        lock (group.Mutex)
        {
            if (domain != group.Domain)
            {
                WarnOn(Warn.DetachDeviceDomainMismatch);
                return;
            }
            if (group.Devices.Count != 1)
            {
                WarnOn(Warn.DetachDeviceNotSingleton);
                return;
            }
            SetCoreDomainLocked(group);
        }
    }

    /// <summary>iommu_detach_group() - back to the core domain; the domain argument is not checked.</summary>
    public void DetachGroup(IommuDomain domain, IommuGroup group)
    {
        lock (group.Mutex) SetCoreDomainLocked(group);
    }

    // __iommu_group_set_core_domain(): an owned group sits on its blocking domain, else on its default.
    private void SetCoreDomainLocked(IommuGroup group)
    {
        AssertLocked(group);
        var newDomain = group.Owner is not null ? group.BlockingDomain : group.DefaultDomain;
        SetDomainNoFailLocked(group, newDomain);
    }

    // __iommu_group_set_domain()
    private Errno SetDomainLocked(IommuGroup group, IommuDomain newDomain)
    {
        AssertLocked(group);
        return GroupSetDomainInternalLocked(group, newDomain, SetDomainFlags.None);
    }

    // __iommu_group_set_domain_nofail(): the caller has no way to report a failure.
    private void SetDomainNoFailLocked(IommuGroup group, IommuDomain? newDomain)
    {
        AssertLocked(group);
        if (GroupSetDomainInternalLocked(group, newDomain, SetDomainFlags.MustSucceed) != OK)
            WarnOn(Warn.SetDomainNoFailFailed);
    }

    /// <summary>
    /// __iommu_group_set_domain_internal() - switch every device to <paramref name="newDomain"/>. The switch
    /// need not be atomic, but DMA only ever reaches the old or the new domain. On failure (no MUST_SUCCEED)
    /// the devices already switched are moved back and group->domain is unchanged; with MUST_SUCCEED every
    /// device is tried, group->domain becomes the new domain and the first error is returned.
    /// </summary>
    private Errno GroupSetDomainInternalLocked(IommuGroup group, IommuDomain? newDomain, SetDomainFlags flags)
    {
        AssertLocked(group);
        if (group.Domain == newDomain) return OK;
        if (newDomain is null)
        {
            WarnOn(Warn.SetDomainNullDomain);
            return EINVAL;
        }

        var result = OK;
        int last;
        for (last = 0; last < group.Devices.Count; last++)
        {
            var ret = DeviceSetDomainLocked(group, group.Devices[last].Dev, newDomain, group.Domain);
            if (ret == OK) continue;
            result = ret;
            // Keep trying the others: a driver that fails should at least have dropped the old domain.
            if ((flags & SetDomainFlags.MustSucceed) != 0) continue;
            goto err_revert;
        }
        group.Domain = newDomain;
        return result;

    err_revert:
        // A well-behaved driver always accepts a domain that was attached before. With no old domain (first
        // probe) group->domain stays NULL and release cleans up.
        for (var i = 0; i <= last && group.Domain is not null; i++)
        {
            if (DeviceSetDomainLocked(group, group.Devices[i].Dev, group.Domain, newDomain) != OK)
                WarnOn(Warn.SetDomainRevertFailed);
        }
        return result;
    }

    // __iommu_device_set_domain(): the per-device step, with the require_direct rule. The kernel's MUST_SUCCEED
    // fallback (a refused device is pushed to the blocking domain) is left out: no driver of this slice refuses a
    // domain under MUST_SUCCEED but by the require_direct rule, which returns before any driver call. It comes
    // back with allocation-failure injection. attach_deferred (kdump) is never set by these drivers: left out too.
    private Errno DeviceSetDomainLocked(IommuGroup group, Device dev, IommuDomain newDomain, IommuDomain? oldDomain)
    {
        AssertLocked(group);
        // A device with IOMMU_RESV_DIRECT regions needs its 1:1 mappings: never a blocking domain.
        // Seeded bug require_direct_blocking_allowed: the test is skipped.
        if (dev.Iommu!.RequireDirect && (newDomain.Type == DomainType.Blocked || newDomain == group.BlockingDomain)
            && !Bugs.IsOn(BugCatalogue.RequireDirectBlockingAllowed))
            return EINVAL;
        return AttachDeviceToDomain(newDomain, dev, oldDomain);
    }

    // __iommu_attach_device(): the driver call.
    private static Errno AttachDeviceToDomain(IommuDomain domain, Device dev, IommuDomain? old) =>
        domain.Ops.AttachDev(domain, dev, old);
}
