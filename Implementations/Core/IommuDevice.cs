using IommuConformance.Contract;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations.Core;

/// <summary>struct iommu_device: one registered IOMMU instance, its ops and its hardware.</summary>
public sealed class IommuDevice(IommuSpec spec, IommuOps ops, ContextTable hardware)
{
    public string Name => spec.Name;

    public IommuSpec Spec => spec;

    public IommuOps Ops => ops;

    /// <summary>The instance's device context table (SMMUv3 stream table, mock record).</summary>
    public ContextTable Hardware => hardware;

    public override string ToString() => Name;
}
