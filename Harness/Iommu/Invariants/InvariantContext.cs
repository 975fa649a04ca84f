using IommuConformance.Contract;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// What the checks know besides the state: the topology, the driver capabilities, and the waivers the run has
/// earned so far — each scoped to the group or device a correct kernel's leniency concerns (docs/trace-format.md).
/// </summary>
public sealed class InvariantContext
{
    private readonly Dictionary<string, DeviceSpec> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _drivers = new(StringComparer.Ordinal);

    public InvariantContext(Topology topology)
    {
        Topology = topology;
        foreach (var d in topology.Devices) _devices.TryAdd(d.Name, d);
        foreach (var i in topology.Iommus)
        {
            _drivers.TryAdd(i.Name, i.Driver);
            if (DriverCapabilities.For(i)?.UnitTableSite is not null) TablelessInstances.Add(i.Name);
        }
    }

    /// <summary>
    /// Instances the model says have not made their table yet (a legacy-mode VT-d unit before its first present context
    /// entry: <see cref="DriverCapabilities.UnitTableSite"/>). Their devices hold no entry at all (the root entry is not
    /// present), where a blocking domain's would be an abort one, and deny every DMA as that would: c.2 takes none for
    /// abort there. Emptied as the model records each table (Waivers.Observe).
    /// </summary>
    public HashSet<string> TablelessInstances { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether the device's instance is <see cref="TablelessInstances"/>; no lookup while none is.</summary>
    public bool HoldsNoEntry(string device) =>
        TablelessInstances.Count > 0 && Device(device)?.Iommu is { } iommu && TablelessInstances.Contains(iommu);

    public Topology Topology { get; }

    /// <summary>
    /// Groups (by id, while they live) whose owner count the trace has unbalanced: a device probed while its driver
    /// was bound (WARN late_probe_at_driver_bind: its use of the default domain was never counted, yet its unbind
    /// decrements), or a <c>release_dma_owner</c> that decremented the DMA-API users of an unowned group. In such
    /// a group a later <c>driver_unbind</c> may legally take a user owner's count to 0: c.4 is waived there.
    /// </summary>
    public HashSet<int> UnbalancedGroups { get; } = [];

    /// <summary>
    /// Devices a MUST_SUCCEED switch (or a revert) failed on (WARN set_domain_nofail_failed or
    /// set_domain_revert_failed): the kernel moves <c>group->domain</c> but the refusing device's hardware stays on
    /// its old (or the blocking) domain, which may be freed under it. c.2, the hardware half of c.9 and the group
    /// half of c.7 are waived for such a device until a later step attaches it cleanly.
    /// </summary>
    public HashSet<string> LaggingDevices { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The lagging devices whose hardware was never attached since their probe (a failed first attach: the model's
    /// <c>HardwareDomain.Unattached</c>): the entry is what the IOMMU's reset left, an abort even for a requireDirect
    /// device, so the hardware half of c.7 is waived for them as long as they lag.
    /// </summary>
    public HashSet<string> NeverAttached { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether the device is <see cref="NeverAttached"/>; no hashing while none is.</summary>
    public bool IsNeverAttached(string device) => NeverAttached.Count > 0 && NeverAttached.Contains(device);

    /// <summary>How many entries of the hardware error log earlier steps have judged (c.9 judges each error once).</summary>
    public int HardwareErrorsJudged { get; set; }

    public DeviceSpec? Device(string name) => _devices.GetValueOrDefault(name);

    /// <summary>The driver of the instance a device sits behind, or null.</summary>
    public string? DriverOf(string device) =>
        Device(device)?.Iommu is { } iommu ? _drivers.GetValueOrDefault(iommu) : null;

    /// <summary>The driver of an instance, or null for none or an unknown one.</summary>
    public string? DriverOfInstance(string? iommu) => iommu is null ? null : _drivers.GetValueOrDefault(iommu);

    /// <summary>Whether the device is lagging (<see cref="LaggingDevices"/>); no hashing while nothing lags.</summary>
    public bool IsLagging(string device) => LaggingDevices.Count > 0 && LaggingDevices.Contains(device);

    /// <summary>True when a hardware error message concerns only lagging devices.</summary>
    public bool Waived(string hardwareError) =>
        LaggingDevices.Count > 0 && LaggingDevices.Any(d => hardwareError.Contains($" {d} ", StringComparison.Ordinal));
}
