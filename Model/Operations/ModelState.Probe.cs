using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>Device lifecycle: <c>probe</c> and <c>release</c>.</summary>
public sealed partial class ModelState
{
    /// <summary>
    /// <c>probe {dev}</c> — <c>iommu_probe_device</c> on the hotplug path. Already probed → OK, nothing happens;
    /// no IOMMU (or no driver) → ENODEV; the driver's <c>probe_device</c> refusal (mock: a pci device → ENODEV).
    /// The device joins its group; a live group attaches it to its current domain (a refusal, EINVAL, is
    /// returned); a new group gets its default domain set up (a failure is returned, with
    /// <see cref="Warn.DefaultDomainFirstAttachFailed"/> when the first attach was refused).
    /// On failure the device is unwound: the state is unchanged.
    /// </summary>
    private ModelStep ProbeDevice(Probe op)
    {
        if (machine.Device(op.Dev) is not { } dev) return Fail(Errno.ENODEV);
        if (GroupFor(op.Dev) is not null) return Ok(this);
        if (Machine.GroupId(dev) is not { } id || machine.Driver(dev.Iommu) is not { } driver) return Fail(Errno.ENODEV);
        var refused = driver.ProbeDevice(dev);
        if (refused != Errno.OK) return Fail(refused);

        var group = groups.GetValueOrDefault(id) ?? GroupState.Create(id, driver.Instance);
        group = group with { Members = group.Members.Add(op.Dev) };
        if (group.Current is { } current)
        {
            var errno = DeviceAccepts(group, dev, current);
            return errno == Errno.OK ? Ok(WithGroup(group)) : Fail(errno);
        }
        var (setup, withDefault, warnings) = SetupDefaultDomain(group, target: null);
        return setup == Errno.OK ? Ok(WithGroup(withDefault), warnings) : Fail(setup, warnings);
    }

    /// <summary>
    /// <c>release {dev}</c> — device removal: the driver core unbinds a bound driver (as <c>driver_unbind</c>),
    /// then <c>iommu_release_device</c>: a device not probed → nothing more; else it leaves its group, with
    /// <see cref="Warn.ReleaseDeviceGroupInUse"/> when the group became empty while <c>owner_cnt != 0</c> or
    /// <c>domain != default_domain</c>; an empty group is freed with its default, blocking and current domain
    /// (the release_domain attach and <c>release_device</c> touch only the device). Always OK.
    /// </summary>
    private ModelStep ReleaseDevice(Release op)
    {
        var (state, warnings) = bound.Contains(op.Dev) ? UnbindDriver(op.Dev) : (this, []);
        if (state.GroupFor(op.Dev) is not { } group) return Ok(state, warnings);

        var left = group with { Members = group.Members.Remove(op.Dev) };
        if (left.Members.IsEmpty && (left.OwnerCount != 0 || left.Current != DomainRef.Default))
            warnings = [.. warnings, Warn.ReleaseDeviceGroupInUse];
        return Ok(state.WithGroup(left), warnings);
    }
}
