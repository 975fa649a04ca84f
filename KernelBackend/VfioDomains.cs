using IommuConformance.Contract;

namespace IommuConformance.KernelBackend;

/// <summary>
/// The trace's paging domains as VFIO type1 can hold them (docs/real-kernel.md "Domains through VFIO"): a handle
/// allocated for a device of a claimed group waits (nothing happens in the kernel: type1 allocates in
/// <c>VFIO_SET_IOMMU</c>); its attach is the container's <c>VFIO_SET_IOMMU</c> (type1v2); from then on the handle stands
/// for the container, whose <c>MAP_DMA</c>/<c>UNMAP_DMA</c> are its map and unmap, until the group leaves the container
/// (its release), when type1 frees the domain. This class holds the facts: which handles wait, which group each
/// attached handle is, and which ranges each one maps; <see cref="Reach"/> asks it and moves it on.
/// </summary>
public sealed class VfioDomains
{
    /// <summary>The smallest page of both sides: VT-d's 4 KiB (type1's pgsize) and the smmuv3 model's.</summary>
    public const ulong Page = 4096;

    /// <summary>The largest map reachable: the agent maps from one 64 MiB buffer; a few MiB keep pinning cheap under TCG.</summary>
    public const ulong MaxMapBytes = 4UL << 20;

    /// <summary>The agent's buffer (its DMA_BUF_BYTES): a map's vaddr offset stays inside it.</summary>
    public const ulong BufferBytes = 64UL << 20;

    /// <summary>The x86 MSI window, a reserved region of every VT-d group: type1 refuses maps into it (its iova list).</summary>
    public const ulong MsiFirst = 0xfee00000, MsiLast = 0xfeefffff;

    /// <summary>The last IOVA of both apertures: QEMU's VT-d with aw-bits=48, and the smmuv3 model's 48-bit input.</summary>
    public const ulong ApertureLast = (1UL << 48) - 1;

    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _waiting = new(StringComparer.Ordinal); // handle → group key
    private readonly Dictionary<string, string> _attached = new(StringComparer.Ordinal); // handle → group key
    private readonly Dictionary<string, SortedDictionary<ulong, Map>> _maps = new(StringComparer.Ordinal); // handle → iova → its map

    /// <summary>The group key a handle is attached to (its container), or null.</summary>
    public string? GroupOf(string handle) => _attached.GetValueOrDefault(handle);

    /// <summary>The handles attached now, in name order (for the generator).</summary>
    public IEnumerable<string> Attached => _attached.Keys.Order(StringComparer.Ordinal);

    /// <summary>The handle waiting for its attach in a group, or null.</summary>
    public string? WaitingIn(string group) => _waiting.FirstOrDefault(p => p.Value == group).Key;

    /// <summary>Whether a group has an attached handle (its container's IOMMU is set).</summary>
    public bool IsAttached(string group) => _attached.ContainsValue(group);

    /// <summary>Whether a handle name was ever used in the trace (the model keeps every handle live: no free is reachable).</summary>
    public bool Used(string handle) => _used.Contains(handle);

    /// <summary>The ranges a handle maps now, in IOVA order.</summary>
    public IReadOnlyList<(ulong Iova, ulong Size)> Maps(string handle) =>
        _maps.TryGetValue(handle, out var m) ? [.. m.Select(p => (p.Key, p.Value.Size))] : [];

    /// <summary>The handle attached in a group, or null.</summary>
    public string? AttachedIn(string group) => _attached.FirstOrDefault(p => p.Value == group).Key;

    /// <summary>The map of a handle holding <paramref name="iova"/>, or null.</summary>
    public Map? MapAt(string handle, ulong iova) =>
        _maps.TryGetValue(handle, out var m) ? m.Values.FirstOrDefault(x => x.Iova <= iova && iova - x.Iova < x.Size) : null;

    /// <summary>
    /// Where in the agent's buffer a map's memory starts: the paddr's offset in the buffer (its low bits kept, so an
    /// unaligned paddr is an unaligned vaddr), or its page offset alone when the map would run past the buffer.
    /// </summary>
    public static ulong BufferOffset(ulong paddr, ulong size)
    {
        var offset = paddr % BufferBytes;
        return offset + size > BufferBytes ? paddr % Page : offset;
    }

    public string? AllocRefusal(DomainAllocPaging op, string group, bool claimed)
    {
        if (op.Flags is not null) return "VFIO type1 allocates its domain without flags (dirty tracking is iommufd's)";
        if (_used.Contains(op.As)) return "the handle was used before: no domain_free is reachable, so the model keeps it live (EEXIST) while VFIO has nothing to refuse";
        if (!claimed) return "VFIO allocates a domain only for a group it holds (claim_group_dma_owner first)";
        if (IsAttached(group) || WaitingIn(group) is not null)
            return "VFIO_SET_IOMMU runs once per container: a second domain of the group is not reachable";
        return null;
    }

    public string? AttachRefusal(string handle, string group, bool claimed)
    {
        if (!_waiting.TryGetValue(handle, out var of)) return "only a handle allocated (and not yet attached) through VFIO attaches: VFIO_SET_IOMMU allocates and attaches at once";
        if (of != group) return "VFIO attaches the domain to the group it was allocated for (its container)";
        return claimed ? null : "VFIO_SET_IOMMU needs the group on its container (claim_group_dma_owner first)";
    }

    public string? MapRefusal(Map op)
    {
        if (!_attached.ContainsKey(op.Domain)) return "a domain is reachable through VFIO only while attached (the container's IOMMU set)";
        if (op.Prot is not ("" or ProtFlags.Read or ProtFlags.Write or ProtFlags.ReadWrite))
            return "VFIO's map flags are READ and WRITE only";
        // A malformed map is refused by both before any page table: VFIO (!size, unaligned size|iova|vaddr, a wrap:
        // EINVAL) and the model (the same checks in iommu_map: EINVAL). The vaddr's low bits are the paddr's (KernelSystem).
        if (Malformed(op.Iova, op.Size) || op.Paddr % Page != 0) return null;
        if (op.Size > MaxMapBytes) return $"maps of at most {MaxMapBytes >> 20} MiB (the agent pins them from one buffer)";
        var last = op.Iova + (op.Size - 1);
        if (last > ApertureLast) return "past the aperture VFIO answers EINVAL from its iova list, the model ERANGE with a warning";
        if (op.Paddr + (op.Size - 1) > ApertureLast) return "the paddr is past the model's 48-bit OAS (the kernel's address is the buffer's, not chosen)";
        if (op.Iova <= MsiLast && last >= MsiFirst) return "VFIO reserves the x86 MSI window 0xfee00000-0xfeefffff (EINVAL); the contract has no reserved regions";
        if (Maps(op.Domain).Any(m => op.Iova < m.Iova + m.Size && m.Iova <= last))
            return "VFIO refuses an overlap from its own mapping tree (EEXIST, no warning) before the page table, which warns";
        return null;
    }

    public string? UnmapRefusal(Unmap op)
    {
        if (!_attached.ContainsKey(op.Domain)) return "a domain is reachable through VFIO only while attached (the container's IOMMU set)";
        if (op.Size == 0) return "VFIO refuses a zero-size unmap (EINVAL); iommu_unmap answers 0";
        if (op.Iova % Page != 0 || op.Size % Page != 0) return "VFIO refuses an unaligned unmap (EINVAL); iommu_unmap answers 0";
        var last = op.Iova + (op.Size - 1);
        if (last < op.Iova || last > ApertureLast) return "a wrap or past the aperture: VFIO EINVAL, the model's page table answers 0";
        var maps = Maps(op.Domain);
        var inside = maps.Where(m => m.Iova <= last && op.Iova < m.Iova + m.Size).ToList();
        if (inside.Count == 0) return "VFIO answers an unmap of nothing (0) from its mapping tree without iommu_unmap, which warns on this page table";
        if (inside[0].Iova < op.Iova || inside[^1].Iova + inside[^1].Size - 1 > last)
            return "VFIO type1v2 refuses an unmap that bisects a mapping (EINVAL)";
        var holes = inside[0].Iova != op.Iova || inside[^1].Iova + inside[^1].Size - 1 != last;
        for (var i = 1; i < inside.Count; i++) holes |= inside[i - 1].Iova + inside[i - 1].Size != inside[i].Iova;
        if (holes)
            return "VFIO unmaps the whole mappings inside the range from its tree; iommu_unmap walks the holes too (this page table warns on each, or unmaps a whole table)";
        return null;
    }

    /// <summary>
    /// A DMA through an attached handle: inside one map or touching none (QEMU writes the mapped pages of a range that
    /// is mapped in part and drops the rest, where the model faults the whole access); a read of a write-only map is
    /// refused (the model's LPAE stand-in reads a write-only leaf; VT-d's second stage does not).
    /// </summary>
    public string? DmaRefusal(string handle, DeviceDma op)
    {
        var last = op.Iova + (op.Size - 1);
        var touched = _maps[handle].Values.Where(m => m.Iova <= last && op.Iova < m.Iova + m.Size).ToList();
        if (touched.Count > 1 || (touched.Count == 1 && (touched[0].Iova > op.Iova || touched[0].Iova + touched[0].Size - 1 < last)))
            return "a DMA over mapped and unmapped bytes: QEMU writes the mapped part and faults the rest, the model faults it whole";
        if (!op.Write && touched.Count == 1 && touched[0].Prot == ProtFlags.Write)
            return "a read of a write-only map: the model's LPAE stand-in reads a write leaf, VT-d's second stage faults";
        return null;
    }

    private static bool Malformed(ulong iova, ulong size) =>
        size == 0 || iova % Page != 0 || size % Page != 0 || iova + (size - 1) < iova;

    public void Allocated(string handle, string group)
    {
        _used.Add(handle);
        _waiting[handle] = group;
    }

    public void AttachedTo(string handle)
    {
        _attached[handle] = _waiting[handle];
        _waiting.Remove(handle);
        _maps[handle] = [];
    }

    public void Mapped(Map op)
    {
        if (!Malformed(op.Iova, op.Size)) _maps[op.Domain][op.Iova] = op;
    }

    public void Unmapped(Unmap op)
    {
        foreach (var (iova, _) in Maps(op.Domain).Where(m => m.Iova >= op.Iova && m.Iova < op.Iova + op.Size)) _maps[op.Domain].Remove(iova);
    }

    /// <summary>The group left its container: type1 detaches and frees the attached domain with every mapping (a waiting handle stays).</summary>
    public void Released(string group)
    {
        foreach (var handle in _attached.Where(p => p.Value == group).Select(p => p.Key).ToList())
        {
            _attached.Remove(handle);
            _maps.Remove(handle);
        }
    }
}
