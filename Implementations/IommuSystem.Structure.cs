using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations;

/// <summary>
/// One live paging domain's page table as the structural checks read it: its root, the table pages a walk from the
/// root reaches in memory (<see cref="PageTable.IIoPgtableOps.ReachableTablePages"/>), and the frames the table
/// itself counts as linked.
/// </summary>
public sealed record DomainTables(int DomainId, ulong Root, IReadOnlyList<ulong> Pages, long CountedFrames);

/// <summary>Read-only views of page-table memory for the structural checks (kernel-semantics G3/G4).</summary>
public sealed partial class IommuSystem
{
    /// <summary>The page table of a live paging domain, or null (no such domain, not a paging domain, or freed).</summary>
    public DomainTables? TablesOfDomain(int id) =>
        PagingDomain(id) is { Freed: false } d ? new DomainTables(id, d.Pgtable.RootPhys, d.Pgtable.ReachableTablePages(), d.Pgtable.TableFrames) : null;

    /// <summary>
    /// Where a live domain's driver and its hardware disagree, or null: virtio-iommu keeps a copy of each domain in the
    /// device, so its endpoint count and, while it has endpoints, its mapping tree must be the device's (the device drops a
    /// domain with its last endpoint; the driver keeps the tree to replay it). Not judged while requests are queued
    /// (the device has not seen them yet). Other drivers share their tables with the hardware: nothing to compare.
    /// </summary>
    public string? DriverHardwareDisagreement(int id)
    {
        if (PagingDomain(id) is not VirtioDomain { Freed: false } d || d.Viommu.QueuedRequests != 0) return null;
        var hw = d.Viommu.Hardware;
        var endpoints = hw.EndpointCountOf((uint)id);
        if (endpoints != d.NrEndpoints)
            return $"virtio domain #{id} counts {d.NrEndpoints} endpoint(s), but the device has {endpoints} attached to it";
        if (endpoints == 0) return null;
        var device = hw.MappingsOf((uint)id);
        var tree = d.Mappings.All;
        for (var i = 0; i < Math.Max(device.Count, tree.Count); i++)
        {
            var t = i < tree.Count ? tree[i] : (ViommuMapping?)null;
            var m = i < device.Count ? device[i] : (PageTable.VirtioMapping?)null;
            if (t is { } a && m is { } b && a.Start == b.VirtStart && a.Last == b.VirtEnd && a.Paddr == b.PhysStart && a.Flags == (uint)b.Flags) continue;
            return t is null
                ? $"virtio domain #{id}: the device maps [0x{m!.Value.VirtStart:x}, 0x{m.Value.VirtEnd:x}], which the driver's tree does not hold"
                : $"virtio domain #{id}: the driver's tree maps [0x{t.Value.Start:x}, 0x{t.Value.Last:x}], which the device does not hold as such";
        }
        return null;
    }

    /// <summary>The order of the live allocator block at <paramref name="phys"/> (frames = 2^order), or -1 when it is free.</summary>
    public int TableBlockOrder(ulong phys) => _platform.Allocator.OrderOf(phys);
}
