using static IommuConformance.Contract.Errno;
using IommuConformance.Contract;

namespace IommuConformance.Implementations.Core;

public sealed partial class IommuCore
{
    /// <summary>
    /// bus_iommu_probe() - probe every device of one bus, deferring default-domain setup, then set up each queued
    /// group's default domain from all its members, in the order the groups were queued. Return: 0; the first
    /// error of a device probe other than -ENODEV (which only means no IOMMU covers the device), which aborts
    /// before any setup; or the first setup error, which leaves the later queued groups without a default domain.
    /// Nothing done before an abort is undone.
    /// </summary>
    public Errno BusIommuProbe(IEnumerable<Device> busDevices)
    {
        var groupList = new List<IommuGroup>();
        foreach (var dev in busDevices)
        {
            // probe_iommu_group()
            Errno ret;
            lock (_probeLock) ret = ProbeDeviceLocked(dev, groupList);
            if (ret == ENODEV) continue;
            if (ret != OK) return ret;
        }

        // This project starts every bus probe with a fresh list; the kernel leaves the entries of groups after an
        // abort linked to the dead list head (docs/operations.md).
        foreach (var group in groupList)
        {
            lock (group.Mutex)
            {
                // The deferred setup is what makes the type right for a group of several devices (hotplug decides
                // from the first one alone).
                var ret = SetupDefaultDomainLocked(group, DomainTypes.NoPreference);
                if (ret != OK) return ret;
                Dma.SetupGroupDmaOps([.. group.Devices.Select(g => g.Dev)], group.DefaultDomain!);
            }
        }
        return OK;
    }
}
