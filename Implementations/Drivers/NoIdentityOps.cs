using IommuConformance.Contract;
using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// A driver's ops without an identity domain (and so without a default one), as a driver hands them out when the
/// topology's <c>identityDomain</c> knob is off (vtd) or the device cannot bypass (virtio without BYPASS_CONFIG):
/// everything else is the driver's own, <see cref="IommuOps.Owner"/> included, so domains stay the driver's.
/// </summary>
internal sealed class NoIdentityOps(IommuOps driver) : IommuOps
{
    public string Name => driver.Name;
    public IommuOps Owner => driver;
    public Errno ProbeDevice(Device dev) => driver.ProbeDevice(dev);
    public void ReleaseDevice(Device dev) => driver.ReleaseDevice(dev);
    public IommuGroup? DeviceGroup(Device dev) => driver.DeviceGroup(dev);
    public DomainType DefDomainType(Device dev) => driver.DefDomainType(dev);
    public Errno DomainAllocPagingFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain) =>
        driver.DomainAllocPagingFlags(dev, flags, out domain);
    public IommuDomain? IdentityDomain => null;
    public IommuDomain? BlockedDomain => driver.BlockedDomain;
    public IommuDomain? DefaultDomain => null;
    public IommuDomain? ReleaseDomain => driver.ReleaseDomain;
    public bool Capable(Device dev, IommuCap cap) => driver.Capable(dev, cap);
    public int MaxPasids => driver.MaxPasids;
    public bool HasDomainAllocSva => driver.HasDomainAllocSva;
    public Errno DomainAllocSva(Device dev, MmStruct mm, out IommuDomain? domain) => driver.DomainAllocSva(dev, mm, out domain);
}
