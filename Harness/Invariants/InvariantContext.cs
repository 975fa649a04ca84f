using System.Collections.Frozen;
using IommuConformance.Contract;

namespace IommuConformance.Harness.Invariants;

/// <summary>
/// What the checks know besides the snapshot: the topology (device flags, which driver a device's instance runs)
/// and what the executor has seen of the run so far. Built once per run.
/// </summary>
public sealed class InvariantContext
{
    private readonly FrozenDictionary<string, DeviceSpec> _devices;
    private readonly FrozenDictionary<string, string> _drivers;

    public InvariantContext(Topology topology)
    {
        Topology = topology;
        _devices = topology.Devices.DistinctBy(d => d.Name).ToFrozenDictionary(d => d.Name);
        _drivers = topology.Iommus.DistinctBy(i => i.Name).ToFrozenDictionary(i => i.Name, i => i.Driver);
    }

    public Topology Topology { get; }

    /// <summary>
    /// False once the trace has unbalanced the group's owner count (a driver bound before the device was probed,
    /// or a release of DMA ownership nobody claimed). From then on a later <c>driver_unbind</c> may legally take
    /// the count of a user owner to 0, and c.4 no longer holds for correct kernels; see docs/trace-format.md.
    /// </summary>
    public bool OwnershipBalanced { get; set; } = true;

    /// <summary>
    /// True once a MUST_SUCCEED domain switch was refused by some device (kernel WARN
    /// <c>set_domain_nofail_failed</c>, compared as an outcome): the kernel then moves <c>group->domain</c> but
    /// leaves the refusing device's hardware on its old domain, which may later be freed under it. From then on
    /// c.2 and the hardware half of c.9 promise nothing for a correct kernel, so they are waived.
    /// </summary>
    public bool HardwareMayLag { get; set; }

    public DeviceSpec? Device(string name) => _devices.GetValueOrDefault(name);

    /// <summary>The driver of the instance a device sits behind, or null.</summary>
    public string? DriverOf(string device) =>
        Device(device)?.Iommu is { } iommu ? _drivers.GetValueOrDefault(iommu) : null;
}
