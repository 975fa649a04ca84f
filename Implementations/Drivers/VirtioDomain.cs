using System.Buffers.Binary;
using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Virtio;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// struct viommu_domain: a paging domain of one virtio-iommu device. Its id is the device's domain id (the core's
/// domain id: never reused in a machine, as the ida range never runs out here). The mappings live in the device;
/// the driver keeps its own tree of the MAP requests it made (<see cref="ViommuMappings"/>), from which
/// iova_to_phys answers and which it replays when the domain gets its first endpoint again.
/// </summary>
public sealed class VirtioDomain : PagingDomain
{
    internal VirtioDomain(int id, IommuDomainOps ops, ViommuDev viommu, BugSwitches bugs)
        : this(id, ops, viommu, new ViommuPgtable(viommu, (uint)id, bugs)) { }

    private VirtioDomain(int id, IommuDomainOps ops, ViommuDev viommu, ViommuPgtable pgtable)
        : base(id, ops, DriverNames.Virtio, pgtable)
    {
        Viommu = viommu;
        Table = pgtable;
    }

    public ViommuDev Viommu { get; }

    internal ViommuPgtable Table { get; }

    /// <summary>vdomain->nr_endpoints.</summary>
    public long NrEndpoints
    {
        get => Table.NrEndpoints;
        internal set => Table.NrEndpoints = value;
    }

    /// <summary>The driver's mapping tree.</summary>
    public ViommuMappings Mappings => Table.Mappings;

    // viommu_iotlb_sync: wait for the queued MAP/UNMAP requests (the device has no TLB to invalidate)
    protected internal override void IotlbSync(IotlbGather gather)
    {
        Viommu.SyncReq();
        gather.FreePages();
    }

    // viommu_flush_iotlb_all: wait for the queued requests (nothing is cached in the device)
    protected internal override void FlushIotlbAll() => Viommu.SyncReq();

    // viommu_iotlb_sync_map: nothing to wait for before the first endpoint
    protected override Errno IotlbSyncMap(ulong iova, ulong size)
    {
        if (NrEndpoints != 0) Viommu.SyncReq();
        return Errno.OK;
    }

    // viommu_replay_mappings: a MAP request for every mapping of the tree, each waited for; the first error stops it
    internal Errno ReplayMappings()
    {
        foreach (var m in Mappings.All.ToArray())
        {
            var ret = Viommu.SendReqSync(ViommuPgtable.MapRequest((uint)Id, m.Start, m.Last, m.Paddr, m.Flags), ViommuReq.TailBytes, out _);
            if (ret != Errno.OK) return ret;
        }
        return Errno.OK;
    }
}

/// <summary>
/// The virtio domain's map_pages / unmap_pages / iova_to_phys (viommu_map_pages, viommu_unmap_pages,
/// viommu_iova_to_phys) behind the core's loops. No table lives in memory: <see cref="TableFrames"/> is 0, and
/// <see cref="Walk"/> answers from the driver's tree (the hardware translates through the device's own map).
/// </summary>
internal sealed class ViommuPgtable(ViommuDev viommu, uint domainId, BugSwitches bugs) : IIoPgtableOps
{
    private bool _freed;

    public ViommuMappings Mappings { get; } = new();

    public long NrEndpoints { get; set; }

    public string Name => "virtio";
    public ulong PgsizeBitmap => viommu.PgsizeBitmap;
    public int Ias => viommu.ApertureEnd == ulong.MaxValue ? 64 : 64 - System.Numerics.BitOperations.LeadingZeroCount(viommu.ApertureEnd);
    public int Oas => 64;
    public ulong RootPhys => 0;
    public long TableFrames => 0;
    public PgtableWarnings Warnings { get; } = new();

    /// <summary>No table pages in memory: the mappings live in the driver's tree and the device's map.</summary>
    public IReadOnlyList<ulong> ReachableTablePages() => [];

    public static byte[] MapRequest(uint domain, ulong start, ulong last, ulong paddr, uint flags)
    {
        var req = new byte[ViommuReq.MapBytes];
        req[0] = ViommuReq.Map;
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(4), domain);
        BinaryPrimitives.WriteUInt64LittleEndian(req.AsSpan(8), start);
        BinaryPrimitives.WriteUInt64LittleEndian(req.AsSpan(16), last);
        BinaryPrimitives.WriteUInt64LittleEndian(req.AsSpan(24), paddr);
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(32), flags);
        return req;
    }

    public static byte[] UnmapRequest(uint domain, ulong start, ulong last)
    {
        var req = new byte[ViommuReq.UnmapBytes];
        req[0] = ViommuReq.Unmap;
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(4), domain);
        BinaryPrimitives.WriteUInt64LittleEndian(req.AsSpan(8), start);
        BinaryPrimitives.WriteUInt64LittleEndian(req.AsSpan(16), last);
        return req;
    }

    // viommu_map_pages: into the driver's tree, then (with an endpoint attached) one MAP request, queued and not waited
    // for: iotlb_sync_map waits, and the status is never read. Linux puts into its tree what the device will refuse
    // (past the input range: RANGE; over another MAP: INVAL) and answers 0; this driver refuses it first with the
    // device's answer, so that its tree and the device never disagree (docs/hardware.md, "virtio").
    public Errno MapPages(ulong iova, ulong paddr, ulong pgsize, ulong pgcount, IommuProt prot, IotlbGather gather, out ulong mapped)
    {
        mapped = 0;
        if (_freed) return Errno.EINVAL;
        var size = pgsize * pgcount;
        var end = iova + size - 1;
        var flags = ((prot & IommuProt.Read) != 0 ? ViommuReq.MapFRead : 0) | ((prot & IommuProt.Write) != 0 ? ViommuReq.MapFWrite : 0)
                    | ((prot & IommuProt.Mmio) != 0 ? ViommuReq.MapFMmio : 0);
        if ((flags & ~viommu.MapFlags) != 0) return Errno.EINVAL;
        if (iova < viommu.ApertureStart || end > viommu.ApertureEnd) return ViommuDev.ToErrno(VirtioIommuStatus.Range);
        if (Mappings.Overlapping(iova, end).Any()) return ViommuDev.ToErrno(VirtioIommuStatus.Inval);
        // viommu_add_mapping: the tree node's kzalloc (GFP_ATOMIC) → -ENOMEM, nothing added
        if (viommu.AllocFails(Warn.FaultSites.ViommuMapping)) return Errno.ENOMEM;
        var mapping = new ViommuMapping(iova, end, paddr, flags);
        Mappings.Add(mapping);
        if (NrEndpoints != 0)
        {
            var ret = viommu.AddReq(MapRequest(domainId, iova, end, paddr, flags), Warn.FaultSites.ViommuMapReq);
            if (ret != Errno.OK)
            {
                DelMappings(iova, end);   // the node goes again: the tree holds only what the device was asked to map
                return ret;
            }
        }
        mapped = size;
        return Errno.OK;
    }

    // viommu_unmap_pages: out of the driver's tree; if that covered the request, one UNMAP of what it removed. Linux
    // deletes from its tree before it knows the total (fewer bytes than asked: 0, yet gone from the tree and not from
    // the device) and sends [iova, iova + unmapped - 1], which a hole makes straddle a MAP the device then keeps; this
    // driver deletes only a covering set and sends the span it removed (docs/hardware.md, "virtio"). Linux also deletes
    // before it sends, so a request that cannot be queued (__viommu_add_req's kzalloc) answers 0 with the mapping gone
    // from the tree and kept by the device; this driver sends first and deletes only what the device was asked to drop
    // (seeded bug viommu_unmap_forgets_on_failed_req is mainline's order).
    public ulong UnmapPages(ulong iova, ulong pgsize, ulong pgcount, IotlbGather gather)
    {
        if (_freed) return 0;
        var size = pgsize * pgcount;
        var end = iova + size - 1;
        var hit = DelMappingsCandidates(iova, end);
        ulong unmapped = 0;
        foreach (var m in hit) unmapped += m.Size;
        if (hit.Count == 0 || unmapped < size) return 0;
        // The device already removed all mappings after the last detach.
        if (NrEndpoints == 0) return DelMappings(iova, end);
        var forgetFirst = bugs.IsOn(BugCatalogue.ViommuUnmapForgetsOnFailedReq);
        if (forgetFirst) DelMappings(iova, end);
        if (viommu.AddReq(UnmapRequest(domainId, iova, hit.Max(m => m.Last)), Warn.FaultSites.ViommuUnmapReq) != Errno.OK) return 0;
        if (!forgetFirst) DelMappings(iova, end);
        return unmapped;
    }

    // The mappings viommu_del_mappings would take: from the first overlapping one, in start order, until one starts
    // before iova (a split the device would refuse).
    private List<ViommuMapping> DelMappingsCandidates(ulong iova, ulong end)
    {
        var hit = new List<ViommuMapping>();
        foreach (var m in Mappings.Overlapping(iova, end))
        {
            if (m.Start < iova) break;
            hit.Add(m);
        }
        return hit;
    }

    // viommu_del_mappings: each removed whole and counted whole.
    public ulong DelMappings(ulong iova, ulong end)
    {
        ulong unmapped = 0;
        foreach (var m in DelMappingsCandidates(iova, end))
        {
            unmapped += m.Size;
            Mappings.Remove(m);
        }
        return unmapped;
    }

    // viommu_iova_to_phys: the first mapping of the tree holding iova
    public ulong IovaToPhys(ulong iova)
    {
        foreach (var m in Mappings.Overlapping(iova, iova)) return m.Paddr + (iova - m.Start);
        return 0;
    }

    public WalkResult Walk(ulong iova, IommuPerm access = IommuPerm.None)
    {
        foreach (var m in Mappings.Overlapping(iova, iova))
        {
            var perm = ((m.Flags & ViommuReq.MapFRead) != 0 ? IommuPerm.Read : IommuPerm.None) | ((m.Flags & ViommuReq.MapFWrite) != 0 ? IommuPerm.Write : IommuPerm.None);
            return WalkResult.Hit(0, iova, m.Start, m.Size, m.Paddr, perm).Check(access);
        }
        return WalkResult.Fault(WalkStatus.TranslationFault, 0);
    }

    // viommu_domain_free: the remaining mappings go from the tree (the device dropped its copy at the last detach)
    public void Free()
    {
        _freed = true;
        DelMappings(0, ulong.MaxValue);
    }
}
