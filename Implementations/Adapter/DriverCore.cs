using IommuConformance.Contract;
using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Adapter;

/// <summary>
/// The part of the driver core this slice needs: whether a DMA-API driver is bound to each device, and the
/// IOMMU hooks around binding (really_probe → iommu_device_use_default_domain, and its unuse on unbind).
/// </summary>
public sealed class DriverCore(IommuCore core)
{
    private readonly object _lock = new();
    private readonly HashSet<string> _bound = new(StringComparer.Ordinal);

    public bool IsBound(Device dev)
    {
        lock (_lock) return _bound.Contains(dev.Name);
    }

    /// <summary>Bind a DMA-API driver. Return: -EBUSY when one is bound; the use_default_domain errno.</summary>
    public Errno Bind(Device dev)
    {
        lock (_lock)
        {
            if (_bound.Contains(dev.Name)) return Errno.EBUSY;
            var ret = core.DeviceUseDefaultDomain(dev);
            if (ret != Errno.OK) return ret;
            _bound.Add(dev.Name);
            return Errno.OK;
        }
    }

    /// <summary>Unbind the driver (sysfs unbind). Return: -ENODEV when none is bound.</summary>
    public Errno Unbind(Device dev)
    {
        lock (_lock)
        {
            if (!_bound.Remove(dev.Name)) return Errno.ENODEV;
            core.DeviceUnuseDefaultDomain(dev);
            return Errno.OK;
        }
    }
}
