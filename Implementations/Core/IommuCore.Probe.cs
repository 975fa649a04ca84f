using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Core;

public sealed partial class IommuCore
{
    /// <summary>
    /// iommu_probe_device() - hotplug probe of one device. Return: 0 (also when already probed); -ENODEV when no
    /// IOMMU covers it or the driver refuses it; the attach or default-domain setup error otherwise, in which
    /// case the device is unwound and left unprobed.
    /// </summary>
    public Errno ProbeDevice(Device dev)
    {
        lock (_probeLock) return ProbeDeviceLocked(dev, groupList: null);
    }

    // __iommu_probe_device(): without a group list (hotplug) the default domain is set up inside the probe; with
    // one (bus probe) a group that still needs it is queued there once, for the caller to set up.
    private Errno ProbeDeviceLocked(Device dev, List<IommuGroup>? groupList)
    {
        AssertProbeLocked();
        // Device is probed already if in a group.
        if (dev.Group is not null) return OK;

        var ret = InitDeviceLocked(dev);
        if (ret != OK) return ret;
        // A replay from the driver's own probe path means someone misuses dma_configure outside bus code.
        if (dev.DriverBound) WarnOn(Warn.LateProbeAtDriverBind);
        var group = dev.Group!;
        // iommu_group_alloc_device(): kzalloc of the group_device; on failure err_put_group unwinds the device.
        if (AllocFails(Warn.FaultSites.GroupDevice, dev))
        {
            lock (group.Mutex) DeinitDeviceLocked(dev);
            GroupPut(group);
            return ENOMEM;
        }
        var gdev = new GroupDevice(dev);

        lock (group.Mutex)
        {
            // The gdev must be in the list before iommu_setup_default_domain().
            group.AddDevice(gdev);
            if (group.Domain is not null)
            {
                // Seeded bug hot_add_skips_owned_group_attach: the 6.2 probe did not attach a device joining a
                // claimed group ("If device joined an existing group which has been claimed, don't attach").
                if (!(Bugs.IsOn(BugCatalogue.HotAddSkipsOwnedGroupAttach) && group.Owner is not null))
                {
                    ret = DeviceSetDomainLocked(group, dev, group.Domain, null);
                    if (ret != OK) goto err_remove_gdev;
                }
            }
            else if (group.DefaultDomain is null && groupList is null)
            {
                ret = SetupDefaultDomainLocked(group, DomainTypes.NoPreference);
                if (ret != OK) goto err_remove_gdev;
            }
            else if (group.DefaultDomain is null && !groupList!.Contains(group))
            {
                groupList.Add(group);
            }
            if (group.DefaultDomain is { } defaultDomain) SetupDmaOps(dev, defaultDomain);
            return OK;

        err_remove_gdev:
            group.RemoveDevice(gdev);
            GroupFreeDeviceLocked(group);
            DeinitDeviceLocked(dev);
        }
        GroupPut(group);
        return ret;
    }

    // iommu_init_device(): dev_iommu, ops->probe_device, ops->device_group. Unwinds everything on failure.
    private Errno InitDeviceLocked(Device dev)
    {
        AssertProbeLocked();
        if (dev.Fwspec is not { } iommu) return ENODEV;   // no fwspec: no IOMMU covers the device
        var ops = iommu.Ops;
        var spec = dev.Spec;
        if (AllocFails(Warn.FaultSites.DevIommu, dev)) return ENOMEM;   // dev_iommu_get(): kzalloc of dev->iommu
        dev.Iommu = new DevIommu(iommu)
        {
            RequireDirect = spec.RequireDirect,
            // min(the device's PASID capability, the instance's max_pasids); the pasid knob turns the instance's off
            MaxPasids = iommu.Spec.Options.Pasid == false ? 0 : Math.Min(spec.MaxPasids, ops.MaxPasids),
        };

        var ret = ops.ProbeDevice(dev);
        if (ret != OK)
        {
            dev.Iommu = null;
            return ret;
        }
        // ops->device_group(): an ERR_PTR (iommu_group_alloc()'s -ENOMEM) goes to err_release.
        if (ops.DeviceGroup(dev) is not { } group)
        {
            ops.ReleaseDevice(dev);
            dev.Iommu = null;
            return ENOMEM;
        }
        dev.Group = group;
        return OK;
    }

    /// <summary>
    /// iommu_release_device() - the device goes away: leave the group, park the hardware on the driver's
    /// release_domain, release_device, and with the last member free the group's domains. Never fails.
    /// </summary>
    public void ReleaseDevice(Device dev)
    {
        // The driver core serialises add and remove of one device; the probe lock stands for that here.
        lock (_probeLock)
        {
            var group = dev.Group;
            if (group is null) return;
            // __iommu_group_remove_device()
            lock (group.Mutex)
            {
                group.RemoveDevice(group.Devices.First(g => g.Dev == dev));
                GroupFreeDeviceLocked(group);
                DeinitDeviceLocked(dev);
            }
            // Pairs with the reference iommu_init_device() took through device_group().
            GroupPut(group);
        }
    }

    // __iommu_group_free_device(): an emptied group must have dropped its owners and be back on its default.
    private void GroupFreeDeviceLocked(IommuGroup group)
    {
        AssertLocked(group);
        if (group.Devices.Count == 0 && (group.OwnerCnt != 0 || group.Domain != group.DefaultDomain))
            WarnOn(Warn.ReleaseDeviceGroupInUse);
    }

    // iommu_deinit_device(): order matters (release_domain, release_device, then free the domains), see
    // "iommu: Fix ordering of iommu_release_device()".
    private void DeinitDeviceLocked(Device dev)
    {
        AssertLocked(dev.Group!);
        var group = dev.Group!;
        var devIommu = dev.Iommu!;
        var ops = devIommu.IommuDev.Ops;

        // Seeded bug release_frees_domains_before_driver_release: the pre-fix order freed the domains while
        // the hardware still used them.
        if (Bugs.IsOn(BugCatalogue.ReleaseFreesDomainsBeforeDriverRelease))
            FreeGroupDomainsIfEmptyLocked(group);

        // The core attaches release_domain before release_device(), so the idle hardware translates nothing.
        if (ops.ReleaseDomain is { } releaseDomain)
        {
            // A require_direct device must not be parked on BLOCKED: that would break its direct mappings.
            if (devIommu.RequireDirect && ops.IdentityDomain is not null && releaseDomain == ops.BlockedDomain)
                releaseDomain = ops.IdentityDomain;
            releaseDomain.Ops.AttachDev(releaseDomain, dev, group.Domain);
        }
        ops.ReleaseDevice(dev);

        if (!Bugs.IsOn(BugCatalogue.ReleaseFreesDomainsBeforeDriverRelease))
            FreeGroupDomainsIfEmptyLocked(group);

        // The caller puts the group reference.
        dev.Group = null;
        dev.Iommu = null;
    }

    // The last driver to use the group frees its domains before the group goes.
    private void FreeGroupDomainsIfEmptyLocked(IommuGroup group)
    {
        AssertLocked(group);
        if (group.Devices.Count != 0) return;
        if (group.DefaultDomain is { } def)
        {
            DomainFree(def);
            group.DefaultDomain = null;
        }
        if (group.BlockingDomain is { } blocking)
        {
            DomainFree(blocking);
            group.BlockingDomain = null;
        }
        group.Domain = null;
    }
}
