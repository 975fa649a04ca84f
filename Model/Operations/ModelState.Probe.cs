using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>Device lifecycle: <c>probe</c> and <c>release</c>.</summary>
public sealed partial class ModelState
{
    /// <summary>
    /// <c>probe {dev}</c> — <c>iommu_probe_device</c> on the hotplug path (<see cref="ProbeOne"/> without a group
    /// list). On failure the device is unwound; the state is unchanged except after a refused first attach in a group
    /// that keeps other members (left so by an aborted bus probe): that group keeps its new default domain.
    /// </summary>
    private ModelStep ProbeDevice(Probe op)
    {
        var (errno, next, warnings, _) = ProbeOne(op.Dev, deferSetup: false);
        return new(new Outcome(errno, null, [.. warnings]), next);
    }

    /// <summary>
    /// <c>__iommu_probe_device</c> of one device. Already probed → OK, nothing happens; no IOMMU (or no driver) →
    /// ENODEV; the driver's <c>probe_device</c> refusal (mock: a pci device → ENODEV). Then a device with a driver
    /// already bound raises <see cref="Warn.LateProbeAtDriverBind"/> (the probe goes on), and the device joins its
    /// group: a group with a current domain attaches it to that domain (a refusal, EINVAL, is returned); a group
    /// without a default domain gets one set up from all its members (hotplug) or, when
    /// <paramref name="deferSetup"/> (bus probe with a group list), is handed back in <c>Deferred</c> for the caller
    /// to set up. A failure unwinds the device.
    /// </summary>
    private (Errno Errno, ModelState Next, string[] Warnings, string? Deferred) ProbeOne(string name, bool deferSetup)
    {
        if (machine.Device(name) is not { } dev) return (Errno.ENODEV, this, [], null);
        if (GroupFor(name) is not null) return (Errno.OK, this, [], null);
        if (Machine.GroupId(dev) is not { } id || machine.Driver(dev.Iommu) is not { } driver) return (Errno.ENODEV, this, [], null);
        // A failed allocation of the probe's own structures (dev_iommu, the driver's, a new group, the group_device): -ENOMEM, unwound.
        if (InjectedFor(name, Warn.FaultSites.DevIommu) is { } noDevIommu) return (Errno.ENOMEM, this, [noDevIommu], null);
        var refused = driver.ProbeDevice(dev);
        if (refused != Errno.OK) return (refused, this, [], null);
        // the driver's own structures in probe_device (arm_smmu_master, device_domain_info, viommu_endpoint, its PROBE)
        foreach (var site in driver.Caps.ProbeSites)
            if (InjectedFor(name, site) is { } noPriv) return (Errno.ENOMEM, this, [noPriv], null);

        var existing = groups.GetValueOrDefault(id);
        if (existing is null && InjectedFor(name, Warn.FaultSites.Group) is { } noGroup) return (Errno.ENOMEM, this, [noGroup], null);
        string[] warnings = bound.Contains(name) ? [Warn.LateProbeAtDriverBind] : [];
        if (InjectedFor(name, Warn.FaultSites.GroupDevice) is { } noGdev)
        {
            string[] unwound = [.. warnings, noGdev];
            return (Errno.ENOMEM, Deinit(dev, hasPasidTable: false, ref unwound), unwound, null);   // err_put_group: iommu_deinit_device
        }
        var group = existing ?? GroupState.Create(id, driver.Instance);
        group = group with { Members = group.Members.Add(name) };
        if (group.Current is { } current)
        {
            var errno = DeviceAccepts(group, dev, current);
            if (errno == Errno.OK) return (errno, WithGroup(group), warnings, null);
            string[] refusedWarnings = [.. warnings, .. InjectedAttach(group, dev, current) is { } noAttach ? [noAttach] : Array.Empty<string>()];
            return (errno, Deinit(dev, hasPasidTable: false, ref refusedWarnings), refusedWarnings, null);
        }
        if (deferSetup) return (Errno.OK, WithGroup(group), warnings, id);

        var (setup, after, setupWarnings) = SetupDefaultDomain(group, target: null);
        warnings = [.. warnings, .. setupWarnings];
        if (setup == Errno.OK) return (setup, WithGroup(after), warnings, null);
        // Unwind the device; a group that keeps other members keeps what the failed setup left in it.
        var left = after with { Members = after.Members.Remove(name), Lagging = after.Lagging.Remove(name), PagingAttached = after.PagingAttached.Remove(name) };
        var unchanged = left.Members.IsEmpty ? existing is null : left.Equals(existing);
        return (setup, (unchanged ? this : WithGroup(left)).Deinit(dev, after.PagingAttached.Contains(name), ref warnings), warnings, null);
    }

    /// <summary>
    /// <c>release {dev}</c> — device removal: the driver core unbinds a bound driver (as <c>driver_unbind</c>),
    /// then <c>iommu_release_device</c> (the device's PASID entries go with its driver's tables): a device not probed → nothing more; else it leaves its group, with
    /// <see cref="Warn.ReleaseDeviceGroupInUse"/> when the group became empty while <c>owner_cnt != 0</c> or
    /// <c>domain != default_domain</c> (both NULL is no warning); an empty group is freed with its default, blocking
    /// and current domain (the release_domain attach and <c>release_device</c> touch only the device). Always OK.
    /// </summary>
    private ModelStep ReleaseDevice(Release op)
    {
        var self = GroupFor(op.Dev) is { } last ? WithoutPasidsOf(last) : this;
        // release_device: the driver's PASID table of the device goes with it (its CD table, its PASID directory)
        if (self.Pasid.DevHw.ContainsKey(op.Dev) || self.Pasid.TableLeaves.ContainsKey(op.Dev))
            self = self.WithPasid(self.Pasid with { DevHw = self.Pasid.DevHw.Remove(op.Dev), TableLeaves = self.Pasid.TableLeaves.Remove(op.Dev) });
        var (state, warnings) = self.bound.Contains(op.Dev) ? self.UnbindDriver(op.Dev) : (self, []);
        if (state.GroupFor(op.Dev) is not { } group) return Ok(state, warnings);

        var left = group with { Members = group.Members.Remove(op.Dev), Lagging = group.Lagging.Remove(op.Dev), PagingAttached = group.PagingAttached.Remove(op.Dev) };
        if (left.Members.IsEmpty && (left.OwnerCount != 0 || left.Current != DefaultOf(left)))
            warnings = [.. warnings, Warn.ReleaseDeviceGroupInUse];
        var hadTable = HasPasidTable(group, op.Dev, Pasid);
        var released = state.WithGroup(left).Deinit(machine.Device(op.Dev)!, hadTable, ref warnings);
        return Ok(released, warnings);
    }
}
