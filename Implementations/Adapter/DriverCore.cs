using IommuConformance.Contract;
using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Adapter;

/// <summary>
/// The part of the driver core this slice needs: binding a DMA-API driver to a device (<c>dev->driver</c>), and
/// the IOMMU hooks around it (really_probe → iommu_device_use_default_domain, and its unuse on unbind). One lock
/// stands for the device_lock of every device.
/// </summary>
public sealed class DriverCore(IommuCore core)
{
    private readonly Lock _lock = new();

    public bool IsBound(Device dev)
    {
        lock (_lock) return dev.DriverBound;
    }

    /// <summary>Bind a DMA-API driver. Return: -EBUSY when one is bound; the use_default_domain errno.</summary>
    public Errno Bind(Device dev)
    {
        lock (_lock)
        {
            if (dev.DriverBound) return Errno.EBUSY;
            var ret = core.DeviceUseDefaultDomain(dev);
            if (ret != Errno.OK) return ret;
            core.SetDriverBound(dev, true);
            return Errno.OK;
        }
    }

    /// <summary>Unbind the driver (sysfs unbind). Return: -ENODEV when none is bound.</summary>
    public Errno Unbind(Device dev)
    {
        lock (_lock)
        {
            if (!dev.DriverBound) return Errno.ENODEV;
            core.SetDriverBound(dev, false);
            core.DeviceUnuseDefaultDomain(dev);
            return Errno.OK;
        }
    }
}
