using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Core;

/// <summary>PASID attach, replace and detach, and the attach-handle lookup (iommu.c, the PASID part).</summary>
public sealed partial class IommuCore
{
    /// <summary>IOMMU_NO_PASID.</summary>
    public const uint NoPasid = 0;

    /// <summary>
    /// iommu_attach_device_pasid() - attach <paramref name="domain"/> to <paramref name="pasid"/> of every member of
    /// <paramref name="dev"/>'s group that has PASIDs. Return: -ENODEV without a group; -EOPNOTSUPP when the domain or
    /// the driver's blocked domain has no set_dev_pasid; -EINVAL for another driver's domain, PASID 0, or a member
    /// narrower than the PASID; -EBUSY when the slot is taken; a driver's refusal (the members set before it undone).
    /// The new domain is not visible until the operation succeeds.
    /// </summary>
    public Errno AttachDevicePasid(IommuDomain domain, Device dev, uint pasid, IommuAttachHandle? handle)
    {
        var group = dev.Group;   // "Caller must be a probed driver on dev"
        if (group is null) return ENODEV;
        var ops = dev.Iommu!.IommuDev.Ops;
        if (!domain.Ops.HasSetDevPasid || ops.BlockedDomain is not { Ops.HasSetDevPasid: true }) return EOPNOTSUPP;
        // Seeded bug pasid_zero_accepted: the IOMMU_NO_PASID test is missing.
        if (!DomainOpsCompatible(ops, domain) || (pasid == NoPasid && !Bugs.IsOn(BugCatalogue.PasidZeroAccepted))) return EINVAL;
        lock (group.Mutex) return AttachGroupPasidLocked(domain, group, pasid, handle);
    }

    private Errno AttachGroupPasidLocked(IommuDomain domain, IommuGroup group, uint pasid, IommuAttachHandle? handle)
    {
        AssertLocked(group);
        if (PastPasidWidthLocked(group, pasid)) return EINVAL;
        if (group.PasidArray.ContainsKey(pasid)) return EBUSY;   // xa_insert of the reservation
        var ret = SetGroupPasidLocked(domain, group, pasid, old: null);
        if (ret != OK) return ret;
        StorePasidLocked(group, pasid, domain, handle);
        return OK;
    }

    /// <summary>
    /// iommu_replace_device_pasid() - switch <paramref name="pasid"/> of the group from its current domain to
    /// <paramref name="domain"/>. Return: as attach, and -EINVAL for no handle or an empty slot; a driver refusal
    /// rolls the members already switched back to the old domain, which keeps the slot.
    /// </summary>
    public Errno ReplaceDevicePasid(IommuDomain domain, Device dev, uint pasid, IommuAttachHandle? handle)
    {
        var group = dev.Group;
        if (group is null) return ENODEV;
        var ops = dev.Iommu!.IommuDev.Ops;
        if (!domain.Ops.HasSetDevPasid || ops.BlockedDomain is not { Ops.HasSetDevPasid: true }) return EOPNOTSUPP;
        if (!DomainOpsCompatible(ops, domain) || pasid == NoPasid || handle is null) return EINVAL;
        lock (group.Mutex)
        {
            if (PastPasidWidthLocked(group, pasid)) return EINVAL;
            if (!group.PasidArray.TryGetValue(pasid, out var curr)) return EINVAL;   // replace requires an attach
            if (ReferenceEquals(curr.Handle, handle)) return EINVAL;
            if (curr.Domain != domain)
            {
                var ret = SetGroupPasidLocked(domain, group, pasid, curr.Domain);
                if (ret != OK)
                {
                    // Seeded bug replace_pasid_loses_old: the slot is blocked and erased instead of kept.
                    if (Bugs.IsOn(BugCatalogue.ReplacePasidLosesOld)) RemoveGroupPasidLocked(group, pasid, curr.Domain);
                    return ret;
                }
            }
            StorePasidLocked(group, pasid, domain, handle);
            return OK;
        }
    }

    /// <summary>iommu_detach_device_pasid() - no checks: block <paramref name="pasid"/> on every member with PASIDs and erase the slot.</summary>
    public void DetachDevicePasid(IommuDomain domain, IommuGroup group, uint pasid)
    {
        lock (group.Mutex) RemoveGroupPasidLocked(group, pasid, domain);
    }

    /// <summary>
    /// iommu_attach_handle_get() - the handle stored at <paramref name="pasid"/>. Return: -ENOENT for a free slot or a
    /// bare domain entry; -EBUSY when <paramref name="type"/> is not 0 and the domain is of another type.
    /// </summary>
    public Errno AttachHandleGet(IommuGroup group, uint pasid, DomainType type, out IommuAttachHandle? handle)
    {
        handle = null;
        lock (group.Mutex)   // xa_lock
        {
            if (!group.PasidArray.TryGetValue(pasid, out var entry) || entry.Handle is null) return ENOENT;
            // Seeded bug handle_get_busy_as_free: a slot of another type reads as free.
            if (type != 0 && entry.Domain.Type != type) return Bugs.IsOn(BugCatalogue.HandleGetBusyAsFree) ? ENOENT : EBUSY;
            handle = entry.Handle;
            return OK;
        }
    }

    /// <summary>The group's PASID slots, read under its mutex (the adapter's records, snapshots, teardown).</summary>
    public IReadOnlyList<KeyValuePair<uint, PasidArrayEntry>> PasidEntries(IommuGroup group)
    {
        lock (group.Mutex) return [.. group.PasidArray];
    }

    /// <summary>The slot of <paramref name="pasid"/> in <paramref name="group"/>, or null.</summary>
    public PasidArrayEntry? PasidEntry(IommuGroup group, uint pasid)
    {
        lock (group.Mutex) return group.PasidArray.GetValueOrDefault(pasid);
    }

    // The group's members with PASIDs: the others are skipped by every PASID operation.
    private static IEnumerable<Device> PasidMembers(IommuGroup group) =>
        group.Devices.Select(g => g.Dev).Where(d => d.Iommu!.MaxPasids > 0);

    private static bool PastPasidWidthLocked(IommuGroup group, uint pasid)
    {
        AssertLocked(group);
        return PasidMembers(group).Any(d => pasid >= (uint)d.Iommu!.MaxPasids);
    }

    private static void StorePasidLocked(IommuGroup group, uint pasid, IommuDomain domain, IommuAttachHandle? handle)
    {
        AssertLocked(group);
        if (handle is not null) handle.Domain = domain;
        group.SetPasid(pasid, new PasidArrayEntry(domain, handle));
    }

    // __iommu_set_group_pasid(): set_dev_pasid on each member; on a refusal the members done go back to old (a
    // refusal of the old domain is a driver bug: WARN), or without one are blocked.
    private Errno SetGroupPasidLocked(IommuDomain domain, IommuGroup group, uint pasid, IommuDomain? old)
    {
        AssertLocked(group);
        var done = new List<Device>();
        foreach (var dev in PasidMembers(group))
        {
            var ret = domain.Ops.SetDevPasid(domain, dev, pasid, old);
            if (ret == OK)
            {
                done.Add(dev);
                continue;
            }
            foreach (var back in done)
            {
                if (old is not null && old.Ops.SetDevPasid(old, back, pasid, domain) == OK) continue;
                if (old is not null) WarnOn(Warn.SetDevPasidRevertFailed);
                RemoveDevPasid(back, pasid, domain);
            }
            return ret;
        }
        return OK;
    }

    // iommu_detach_device_pasid()'s work under the mutex.
    private void RemoveGroupPasidLocked(IommuGroup group, uint pasid, IommuDomain domain)
    {
        AssertLocked(group);
        foreach (var dev in PasidMembers(group)) RemoveDevPasid(dev, pasid, domain);
        group.ErasePasid(pasid);
    }

    // iommu_remove_dev_pasid(): the blocked domain's set_dev_pasid (it cannot refuse).
    private static void RemoveDevPasid(Device dev, uint pasid, IommuDomain domain)
    {
        var blocked = dev.Iommu!.IommuDev.Ops.BlockedDomain!;
        blocked.Ops.SetDevPasid(blocked, dev, pasid, domain);
    }

    /// <summary>!xa_empty(&amp;group->pasid_array).</summary>
    private static bool HasPasidsLocked(IommuGroup group)
    {
        AssertLocked(group);
        return group.PasidArray.Count > 0;
    }
}
