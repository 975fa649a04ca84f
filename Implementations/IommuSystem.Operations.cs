using IommuConformance.Contract;
using IommuConformance.Implementations.Adapter;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Drivers;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations;

/// <summary>
/// The adapter: one handler per trace operation, in the same order each time: resolve names (unknown device
/// → ENODEV, dead handle → ENOENT), apply the handle-table and driver-core rules, call the core, answer.
/// Group operations hold an iommu_group_get() reference for their duration, as VFIO and iommufd do.
/// </summary>
public sealed partial class IommuSystem
{
    private Outcome Dispatch(Operation op) => op switch
    {
        Probe p => WithDevice(p.Dev, dev => Outcome.Of(_core.ProbeDevice(dev))),
        BusProbe b => Outcome.Of(_core.BusIommuProbe(_devices.Where(d => d.Spec.Bus == b.Bus))),
        Release r => WithDevice(r.Dev, Release),
        GetDomain g => WithDevice(g.Dev, GetDomain),
        GroupTypeRead g => WithGroup(g.Dev, group => Outcome.OkWith(_core.GroupShowType(group))),
        GroupTypeWrite g => WithGroup(g.Dev, group => Outcome.Of(_core.GroupStoreType(group, g.Type))),
        DomainAllocPaging a => DomainAllocPaging(a),
        DomainFree f => DomainFree(f.Domain),
        AttachDevice a => WithDomain(a.Domain, d => WithDevice(a.Dev, dev => Outcome.Of(_core.AttachDevice(d, dev)))),
        AttachGroup a => WithDomain(a.Domain, d => WithGroup(a.Dev, group => Outcome.Of(_core.AttachGroup(d, group)))),
        DetachDevice a => WithDomain(a.Domain, d => WithDevice(a.Dev, dev => Done(() => _core.DetachDevice(d, dev)))),
        DetachGroup a => WithDomain(a.Domain, d => WithGroup(a.Dev, group => Done(() => _core.DetachGroup(d, group)))),
        DriverBind b => WithDevice(b.Dev, dev => Outcome.Of(_driverCore.Bind(dev))),
        DriverUnbind u => WithDevice(u.Dev, dev => Outcome.Of(_driverCore.Unbind(dev))),
        ClaimDmaOwner c => WithDevice(c.Dev, dev => Outcome.Of(_core.DeviceClaimDmaOwner(dev, c.Owner))),
        ReleaseDmaOwner r => WithGroup(r.Dev, group => Done(() => _core.DeviceReleaseDmaOwner(group))),
        ClaimGroupDmaOwner c => WithGroup(c.Dev, group => Outcome.Of(_core.GroupClaimDmaOwner(group, c.Owner))),
        ReleaseGroupDmaOwner r => WithGroup(r.Dev, group => Done(() => _core.GroupReleaseDmaOwner(group))),
        Map m => Map(m),
        Unmap u => Unmap(u),
        IovaToPhys i => IovaToPhys(i),
        DeviceDma d => DeviceDma(d),
        Contract.MmNew or Contract.MmExit or Contract.MmMap or Contract.SvaBind or Contract.SvaUnbind or Contract.SvaGetPasid or Contract.AttachDevicePasid
            or Contract.ReplaceDevicePasid or Contract.DetachDevicePasid => DispatchPasid(op),
        Contract.DmaMap or Contract.DmaUnmap or Tick or Contract.FailNth => DmaApi(op),
        // A suite bug (an operation added to the contract without its handler), not an answer.
        _ => throw new NotSupportedException($"the implementation has no handler for operation '{op.Name}' ({op.GetType().Name})"),
    };

    // Device removal: the driver core unbinds a bound driver first, then the IOMMU core releases the device.
    private Outcome Release(Device dev)
    {
        ReleasePasidUsers(dev);
        if (_driverCore.IsBound(dev)) _driverCore.Unbind(dev);
        _core.ReleaseDevice(dev);
        return Outcome.Ok;
    }

    // iommu_get_domain_for_dev(), named: a handle, or the role the domain plays for its group.
    private Outcome GetDomain(Device dev)
    {
        var group = _core.GroupGet(dev);
        if (group is null) return Outcome.OkWith(DomainNames.None);
        try
        {
            return Outcome.OkWith(DomainNaming.Name(_core.DomainsOf(group), _handles));
        }
        finally
        {
            _core.GroupPut(group);
        }
    }

    // IOMMU_HWPT_ALLOC: the handle must be free, then iommu_paging_domain_alloc_flags(), then the handle is
    // published (iommufd_object_finalize); a name taken meanwhile loses the race: the new domain is freed.
    private Outcome DomainAllocPaging(DomainAllocPaging op)
    {
        if (_handles.IsLive(op.As)) return Outcome.Of(EEXIST);
        if (!_devicesByName.TryGetValue(op.Dev, out var dev)) return Outcome.Of(ENODEV);
        var flags = op.Flags switch
        {
            null => HwptAllocFlags.None,
            AllocFlags.DirtyTracking => HwptAllocFlags.DirtyTracking,
            _ => (HwptAllocFlags?)null,   // iommufd rejects unknown flag bits
        };
        if (flags is null) return Outcome.Of(EOPNOTSUPP);
        var ret = _core.PagingDomainAllocFlags(dev, flags.Value, out var domain);
        if (ret != OK) return Outcome.Of(ret);
        if (_handles.TryAdd(op.As, domain!)) return Outcome.Ok;
        _core.DomainFree(domain!);
        return Outcome.Of(EEXIST);
    }

    // iommufd refuses to destroy a HWPT in use: by an operation running now, or attached to a group (the kernel
    // itself never frees an attached domain).
    private Outcome DomainFree(string name)
    {
        if (_handles.BeginRemove(name, out var busy) is not { } handle) return Outcome.Of(ENOENT);
        if (busy) return Outcome.Of(EBUSY);
        var attached = _core.IsAttachedAnywhere(handle.Domain);
        _handles.EndRemove(handle, remove: !attached);
        if (attached) return Outcome.Of(EBUSY);
        _core.DomainFree(handle.Domain);
        WarnFreed(handle.Domain);
        return Outcome.Ok;
    }

    // ---- name resolution ----

    private Outcome WithDevice(string name, Func<Device, Outcome> body) =>
        _devicesByName.TryGetValue(name, out var dev) ? body(dev) : Outcome.Of(ENODEV);

    // iommu_group_get(dev) … iommu_group_put(): no group is -ENODEV for every group operation.
    private Outcome WithGroup(string devName, Func<IommuGroup, Outcome> body) => WithDevice(devName, dev =>
    {
        var group = _core.GroupGet(dev);
        if (group is null) return Outcome.Of(ENODEV);
        try
        {
            return body(group);
        }
        finally
        {
            _core.GroupPut(group);
        }
    });

    // The handle stays live for the whole call: it counts one more user, no lock is held across the kernel call.
    private Outcome WithDomain(string name, Func<IommuDomain, Outcome> body)
    {
        if (_handles.Acquire(name) is not { } handle) return Outcome.Of(ENOENT);
        try
        {
            return body(handle.Domain);
        }
        finally
        {
            _handles.Release(handle);
        }
    }

    private static Outcome Done(Action call)
    {
        call();
        return Outcome.Ok;
    }
}
