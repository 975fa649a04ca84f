using IommuConformance.Contract;
using IommuConformance.Implementations;

namespace IommuConformance.Properties.ImplementationTests;

/// <summary>Small builders for implementation-only example tests (no model, no harness).</summary>
internal static class Machine
{
    public static readonly IommuSpec Smmu0 = new("smmu0", DriverNames.Smmuv3, IommuOptions.None);
    public static readonly IommuSpec Smmu1 = new("smmu1", DriverNames.Smmuv3, IommuOptions.None);
    public static readonly IommuSpec Mock0 = new("mock0", DriverNames.Mock, IommuOptions.None);

    public static DeviceSpec Pci(string name, string iommu = "smmu0", string group = "g0") => new(name, BusNames.Pci, iommu, group);

    public static DeviceSpec Platform(string name, string iommu, string group) => new(name, BusNames.Platform, iommu, group);

    public static IommuSystem Create(IEnumerable<IommuSpec> iommus, IEnumerable<DeviceSpec> devices,
        string[]? bugs = null, SystemConfig? config = null) =>
        IommuSystem.Create(config ?? SystemConfig.Default, new Topology([.. iommus], [.. devices]), bugs ?? []);

    /// <summary>Runs the steps and returns every outcome (an array: xunit compares ImmutableArray by reference).</summary>
    public static Outcome[] Run(this IommuSystem system, params Operation[] steps) => [.. steps.Select(system.Execute)];
}
