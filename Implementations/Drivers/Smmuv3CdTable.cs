using System.Numerics;
using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.Hardware.Smmuv3;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// struct arm_smmu_ctx_desc_cfg: a master's CD table, one CD per substream (SSID = PASID), sized by the master's
/// ssid_bits (log2 of max_pasids). As arm_smmu_alloc_cd_tables: linear up to CTXDESC_L2_ENTRIES (1024) CDs, else two
/// levels (S1FMT 64K_L2): an L1 table of descriptors, each leaf table of 1024 CDs allocated on first use
/// (arm_smmu_alloc_cd_ptr). <see cref="UsedSsids"/> is used_ssids: the substreams other than 0 with a valid CD.
/// </summary>
public sealed class Smmuv3CdTable
{
    private const int LeafOrder = 4;   // 1024 × 64 bytes = 64 KiB
    private readonly FrameAllocator _allocator;
    private readonly PhysicalMemory _memory;
    private readonly int _order;
    private readonly ulong[]? _leaves;

    private Smmuv3CdTable(FrameAllocator allocator, PhysicalMemory memory, ulong @base, int order, int cdMax, ulong[]? leaves)
    {
        _allocator = allocator;
        _memory = memory;
        Base = @base;
        _order = order;
        CdMax = cdMax;
        _leaves = leaves;
    }

    public ulong Base { get; }

    /// <summary>S1CDMax: log2 of the CDs (0: CD 0 only, no substreams).</summary>
    public int CdMax { get; }

    public ulong Fmt => _leaves is null ? Smmuv3Ste.S1FmtLinear : Smmuv3Ste.S1Fmt64KL2;

    public HashSet<uint> UsedSsids { get; } = [];

    /// <summary>arm_smmu_alloc_cd_tables for a master of <paramref name="maxPasids"/> PASIDs (CD 0's leaf table included).</summary>
    public static Errno Alloc(FrameAllocator allocator, PhysicalMemory memory, int maxPasids, out Smmuv3CdTable? table)
    {
        table = null;
        var bits = maxPasids <= 1 ? 0 : BitOperations.Log2((uint)maxPasids - 1) + 1;
        var twoLevel = bits > Smmuv3CdL1.L2Bits;
        var bytes = twoLevel ? (1UL << (bits - Smmuv3CdL1.L2Bits)) * Smmuv3CdL1.Bytes : (1UL << bits) * Smmuv3Cd.Bytes;
        var order = 0;
        while ((PhysicalMemory.FrameSize << order) < bytes) order++;
        var r = allocator.Alloc(order, out var @base);
        if (r != Errno.OK) return r;
        table = new Smmuv3CdTable(allocator, memory, @base, order, bits, twoLevel ? new ulong[1 << (bits - Smmuv3CdL1.L2Bits)] : null);
        if (table.CdPtr(0, alloc: true) is null)
        {
            allocator.Free(@base);
            table = null;
            return Errno.ENOMEM;
        }
        return Errno.OK;
    }

    /// <summary>Whether the CD of <paramref name="ssid"/> lies in a leaf table not allocated yet (two levels only).</summary>
    public bool LeafMissing(uint ssid) => _leaves is not null && _leaves[(int)(ssid >> Smmuv3CdL1.L2Bits)] == 0;

    /// <summary>arm_smmu_get_cd_ptr / arm_smmu_alloc_cd_ptr: the CD's address, allocating its leaf table if asked; null when absent.</summary>
    public ulong? CdPtr(uint ssid, bool alloc)
    {
        if (_leaves is null) return Base + ssid * (ulong)Smmuv3Cd.Bytes;
        var idx = (int)(ssid >> Smmuv3CdL1.L2Bits);
        if (_leaves[idx] == 0)
        {
            if (!alloc || _allocator.Alloc(LeafOrder, out var leaf) != Errno.OK) return null;
            _leaves[idx] = leaf;
            // arm_smmu_write_cd_l1_desc: an L1 descriptor is never cached invalid here, so no CFGI is owed for it
            _memory.Write(Base + (ulong)idx * Smmuv3CdL1.Bytes, (leaf & Smmuv3CdL1.L2PtrMask) | Smmuv3CdL1.V);
        }
        return _leaves[idx] + (ssid & ((1u << Smmuv3CdL1.L2Bits) - 1)) * (ulong)Smmuv3Cd.Bytes;
    }

    /// <summary>arm_smmu_free_cd_tables.</summary>
    public void Free()
    {
        foreach (var leaf in _leaves ?? [])
            if (leaf != 0) _allocator.Free(leaf);
        _allocator.Free(Base);
    }

    public override string ToString() => $"CD table 0x{Base:x} (order {_order}, S1CDMax {CdMax})";
}
