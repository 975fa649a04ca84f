using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// A driver's record of what each PASID of each device is set to (the per-stream CD table of smmuv3, the scalable-mode
/// PASID table of vtd, the mock's PASID xarray), kept in the driver's memory, not yet in emulated hardware tables
/// (docs/pasid-sva.md): set_dev_pasid writes it, the blocked domain clears it.
/// </summary>
public sealed class PasidSlots(TouchedSet touched)
{
    private readonly Dictionary<(string Dev, uint Pasid), IommuDomain> _slots = [];

    /// <summary>Records <paramref name="domain"/> on the PASID; the blocked domain (type BLOCKED) clears the slot.</summary>
    public void Set(Device dev, uint pasid, IommuDomain domain)
    {
        if (domain.Type == DomainType.Blocked) _slots.Remove((dev.Name, pasid));
        else _slots[(dev.Name, pasid)] = domain;
        touched.Device(dev.Name);
    }

    /// <summary>The domain the device's PASID is set to, or null.</summary>
    public IommuDomain? Get(string dev, uint pasid) => _slots.GetValueOrDefault((dev, pasid));

    /// <summary>release_device: the device's PASID table goes with it.</summary>
    public void Release(Device dev)
    {
        foreach (var key in _slots.Keys.Where(k => k.Dev == dev.Name).ToList()) _slots.Remove(key);
    }
}
