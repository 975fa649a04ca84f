using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// The common page-table shape over a virtio-iommu domain's device-side mappings: map_pages sends one MAP for the
/// whole run (viommu_map_pages), unmap_pages one UNMAP (answering the bytes removed, 0 on RANGE), statuses become
/// errnos as viommu_get_req_errno does. The device has no IOTLB and no tables in memory: every request is
/// synchronous, <see cref="Walk"/> reads the device's map, and <see cref="TableFrames"/> is 0.
/// </summary>
public sealed class VirtioPgtable(int inputBits = 48) : IIoPgtableOps
{
    private bool _freed;

    public VirtioMappingTable Device { get; } = new(0x1000, 0, inputBits >= 64 ? ulong.MaxValue : (1UL << inputBits) - 1);

    public string Name => $"virtio {Ias}";
    public ulong PgsizeBitmap => 0x1000;
    public int Ias { get; } = inputBits;
    public int Oas => 64;
    public ulong RootPhys => 0;
    public long TableFrames => 0;
    public PgtableWarnings Warnings { get; } = new();

    // viommu_get_req_errno
    public static Errno ToErrno(VirtioIommuStatus status) => status switch
    {
        VirtioIommuStatus.Ok => Errno.OK,
        VirtioIommuStatus.Unsupp => Errno.EOPNOTSUPP,   // -ENOSYS in the kernel; the contract has no ENOSYS
        VirtioIommuStatus.Inval => Errno.EINVAL,
        VirtioIommuStatus.Range => Errno.ERANGE,
        VirtioIommuStatus.NoEnt => Errno.ENOENT,
        VirtioIommuStatus.Fault => Errno.EFAULT,
        VirtioIommuStatus.NoMem => Errno.ENOMEM,
        _ => Errno.EIO,
    };

    // viommu_map_pages
    public Errno MapPages(ulong iova, ulong paddr, ulong pgsize, ulong pgcount, IommuProt prot, IotlbGather gather, out ulong mapped)
    {
        mapped = 0;
        if (_freed) return Errno.EINVAL;
        var len = pgsize * pgcount;
        if (pgsize == 0 || pgcount == 0 || len / pgcount != pgsize) return Errno.EINVAL;
        var flags = ((prot & IommuProt.Read) != 0 ? VirtioMapFlags.Read : 0) | ((prot & IommuProt.Write) != 0 ? VirtioMapFlags.Write : 0)
                    | ((prot & IommuProt.Mmio) != 0 ? VirtioMapFlags.Mmio : 0);
        var r = ToErrno(Device.Map(iova, iova + len - 1, paddr, flags));
        if (r == Errno.OK) mapped = len;
        return r;
    }

    // viommu_unmap_pages: one UNMAP; a RANGE answer removes nothing (spec-strict device)
    public ulong UnmapPages(ulong iova, ulong pgsize, ulong pgcount, IotlbGather gather)
    {
        if (_freed) return 0;
        var len = pgsize * pgcount;
        if (len == 0 || len / pgcount != pgsize || iova + len - 1 < iova) return 0;
        if (Device.Unmap(iova, iova + len - 1) != VirtioIommuStatus.Ok) return 0;
        var removed = Device.LastUnmapped;
        if (removed != 0) gather.AddPage(iova, len);
        return removed;
    }

    // viommu_iova_to_phys (the driver's interval tree mirrors the device's map)
    public ulong IovaToPhys(ulong iova) =>
        !_freed && Device.Find(iova) is { } m ? m.PhysStart + (iova - m.VirtStart) : 0;

    /// <summary>The device's translation: no mapping is a fault (virtio reason MAPPING), as is a missing right.</summary>
    public WalkResult Walk(ulong iova, IommuPerm access = IommuPerm.None)
    {
        if (_freed || Device.Find(iova) is not { } m) return WalkResult.Fault(WalkStatus.TranslationFault, 0);
        var perm = ((m.Flags & VirtioMapFlags.Read) != 0 ? IommuPerm.Read : IommuPerm.None) | ((m.Flags & VirtioMapFlags.Write) != 0 ? IommuPerm.Write : IommuPerm.None);
        return WalkResult.Hit(0, iova, m.VirtStart, m.Size, m.PhysStart, perm).Check(access);
    }

    /// <summary>No table pages in memory: the mappings live in the device.</summary>
    public IReadOnlyList<ulong> ReachableTablePages() => [];

    public void Free()
    {
        _freed = true;
        Device.Clear();
    }
}
