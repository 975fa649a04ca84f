using IommuConformance.Contract;

namespace IommuConformance.Implementations.Core;

/// <summary>
/// struct device, as far as the IOMMU core sees it. <see cref="Fwspec"/> is the instance firmware points the
/// device at (iommu_fwspec); <see cref="Iommu"/> and <see cref="Group"/> exist only while it is probed. Writes of
/// those and of <see cref="DriverBound"/> are reported to the machine's <see cref="TouchedSet"/>.
/// </summary>
public sealed class Device(DeviceSpec spec, IommuDevice? fwspec, TouchedSet? touched = null)
{
    private DevIommu? _iommu;
    private IommuGroup? _group;
    private bool _driverBound;

    public string Name => spec.Name;

    public DeviceSpec Spec => spec;

    public IommuDevice? Fwspec => fwspec;

    /// <summary>dev->iommu: allocated by iommu_init_device(), freed by iommu_deinit_device().</summary>
    public DevIommu? Iommu
    {
        get => _iommu;
        set
        {
            _iommu = value;
            touched?.Device(spec.Name);
        }
    }

    /// <summary>dev->iommu_group: non-null iff the device is probed.</summary>
    public IommuGroup? Group
    {
        get => _group;
        set
        {
            _group = value;
            touched?.Device(spec.Name);
        }
    }

    /// <summary>dev->driver != NULL: the driver core has bound a driver (set and cleared by the driver core only).</summary>
    public bool DriverBound
    {
        get => _driverBound;
        set
        {
            _driverBound = value;
            touched?.Device(spec.Name);
        }
    }

    /// <summary>dev_is_pci(dev) &amp;&amp; to_pci_dev(dev)->untrusted.</summary>
    public bool IsUntrustedPci => spec.Bus == BusNames.Pci && spec.Untrusted;

    public override string ToString() => Name;
}

/// <summary>struct dev_iommu: the per-device IOMMU data of a probed device.</summary>
public sealed class DevIommu(IommuDevice iommuDev)
{
    /// <summary>The instance that probed the device (dev_iommu_ops(dev) = IommuDev.Ops).</summary>
    public IommuDevice IommuDev => iommuDev;

    /// <summary>Driver private data set by probe_device (dev_iommu_priv_set).</summary>
    public object? Priv { get; set; }

    /// <summary>The device has IOMMU_RESV_DIRECT regions: it never sits on a blocking domain.</summary>
    public bool RequireDirect { get; init; }

    public int MaxPasids { get; init; }

    /// <summary>dev->dma_iommu: the DMA API maps through the IOMMU (set by iommu_setup_dma_ops()).</summary>
    public bool DmaIommu { get; set; }

    /// <summary>dev->iommu->pci_32bit_workaround: try below 4 GiB first; cleared by the rollover, re-armed by the next setup.</summary>
    public bool Pci32BitWorkaround { get; set; }

    /// <summary>iommu_setup_dma_ops() has run for this device at least once (for the seeded bug rollover_never_rearmed).</summary>
    public bool DmaSetupRan { get; set; }
}
