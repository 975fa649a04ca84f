using IommuConformance.Contract;

namespace IommuConformance.Implementations.Core;

public sealed partial class IommuCore
{
    /// <summary>
    /// The machine's fault gate (the DMA layer's, <see cref="Dma.IommuDma.Gate"/>), asked by the core's and the drivers'
    /// fallible allocations of device, group and domain structures: true when the allocation about to happen for
    /// <paramref name="dev"/> at <paramref name="site"/> (a <see cref="Warn.FaultSites"/> name) must fail. The site key
    /// names the device, so failslab's line (<c>fault_injection_dev_iommu@dev1</c>) tells which device met it (docs/dma.md).
    /// </summary>
    internal bool AllocFails(string site, Device dev) => Dma.Gate.ShouldFail(Warn.FaultSites.Key(site, dev.Name));
}
