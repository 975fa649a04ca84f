using IommuConformance.Contract;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations.Core;

/// <summary>struct iommu_device: one registered IOMMU instance, its ops and its hardware.</summary>
public sealed class IommuDevice(IommuSpec spec, IommuOps ops, IommuHardware hardware)
{
    public string Name => spec.Name;

    public IommuSpec Spec => spec;

    public IommuOps Ops => ops;

    /// <summary>The emulated IOMMU behind the instance (its registers; its structures live in physical memory).</summary>
    public IommuHardware Hardware => hardware;

    public override string ToString() => Name;
}
