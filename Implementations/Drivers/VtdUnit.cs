using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.Hardware.Vtd;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// struct intel_iommu: the driver's side of one remapping unit. init_dmars() allocates the root table (every entry
/// not present, so a device on a bus without a context table meets a root-entry fault), the invalidation queue and a
/// status word; bus 0's context table comes with the unit's first present context entry (iommu_context_addr with
/// alloc = 1) and stays until the unit goes; qi_submit_sync() appends descriptors and a wait descriptor and polls the
/// status word. Scalable mode's context tables are made at boot here (VtdUnit.Scalable.cs).
/// </summary>
public sealed partial class VtdUnit
{
    private const uint WaitDone = 1;   // QI_DONE

    private readonly Lock _qiLock = new();   // iommu->register_lock around the queue
    private readonly ulong _root, _contextHigh, _queue, _status;
    private ulong _context;   // legacy mode: 0 until the first present entry
    private readonly FrameAllocator _allocator;
    private ulong _tail;

    public VtdUnit(VtdHardware hw, FrameAllocator allocator)
    {
        Hardware = hw;
        _allocator = allocator;
        // sm_supported(): scalable mode whenever the unit has ECAP.SMTS (intel_iommu=sm_on, the default)
        Scalable = (hw.ReadReg(VtdRegs.Ecap) & VtdSm.EcapSmts) != 0;
        if (allocator.Alloc(0, out _root) != Errno.OK || (Scalable && allocator.Alloc(0, out _context) != Errno.OK)
            || allocator.Alloc(0, out _queue) != Errno.OK || allocator.Alloc(0, out _status) != Errno.OK
            || (Scalable && allocator.Alloc(0, out _contextHigh) != Errno.OK))
            throw new InvalidOperationException("no memory for the remapping unit's tables at boot");
        if (Scalable)
        {
            hw.Memory.Write(_root, (_context & VtdEntry.AddrMask) | VtdEntry.P);           // LCTP
            hw.Memory.Write(_root + 8, (_contextHigh & VtdEntry.AddrMask) | VtdEntry.P);   // UCTP
        }
        hw.WriteReg(VtdRegs.Rtaddr, _root | (Scalable ? VtdSm.RtaddrTtmScalable : 0));
        hw.WriteReg(VtdRegs.Iqa, _queue | (Scalable ? VtdQi.IqaDw : 0));   // QS 0: 4 KiB, 256 (128 wide) descriptors
        CachingMode = (hw.ReadReg(VtdRegs.Cap) & VtdRegs.CapCm) != 0;
    }

    public VtdHardware Hardware { get; }

    /// <summary>cap_caching_mode(iommu->cap).</summary>
    public bool CachingMode { get; }

    private ulong ContextAddr(int bdf) => _context + (ulong)(bdf & 0xFF) * VtdEntry.Bytes;

    /// <summary>Legacy mode: bus 0's context table exists (made at the unit's first present entry).</summary>
    public bool HasContextTable => _context != 0;

    /// <summary>
    /// iommu_context_addr(iommu, bus, devfn, alloc = 1) without a table: a zeroed page for bus 0's context table, its
    /// root entry made present; -ENOMEM when the allocator has none (the driver asks the fault gate first).
    /// </summary>
    public Errno AllocContextTable()
    {
        if (_context != 0) return Errno.OK;
        var r = _allocator.Alloc(0, out var table);
        if (r != Errno.OK) return r;
        _context = table;
        Hardware.Memory.Write(_root, (table & VtdEntry.AddrMask) | VtdEntry.P);
        return Errno.OK;
    }

    /// <summary>The context entry's DID now (domain_context_mapping reads the old one to flush it), or null when not present.</summary>
    public int? PresentDid(int bdf)
    {
        if (_context == 0) return null;
        var lo = Hardware.Memory.Read(ContextAddr(bdf));
        return (lo & VtdEntry.P) == 0 ? null : (int)((Hardware.Memory.Read(ContextAddr(bdf) + 8) >> VtdEntry.DidShift) & 0xFFFF);
    }

    /// <summary>
    /// domain_context_mapping_one / domain_context_clear_one: writes the entry (high word first, then the low word with
    /// P), then invalidates the device's context-cache entry and the old domain's IOTLB, and waits.
    /// </summary>
    public void WriteContext(int bdf, (ulong Lo, ulong Hi) entry)
    {
        if (_context == 0) throw new InvalidOperationException("a context entry written before bus 0's context table was made");
        var old = PresentDid(bdf);
        var mem = Hardware.Memory;
        mem.Write(ContextAddr(bdf), 0);
        mem.Write(ContextAddr(bdf) + 8, entry.Hi);
        mem.Write(ContextAddr(bdf), entry.Lo);
        var did = (int)((entry.Hi >> VtdEntry.DidShift) & 0xFFFF);
        var descs = new List<(ulong, ulong)> { VtdQi.ContextDevice(did, bdf) };
        if (old is { } o) descs.Add(VtdQi.IotlbDomain(o));
        SubmitSync(descs);
    }

    /// <summary>qi_submit_sync: the descriptors, a wait descriptor writing QI_DONE to the status word, then poll it.</summary>
    public void SubmitSync(IReadOnlyList<(ulong Lo, ulong Hi)> descs)
    {
        lock (_qiLock)
        {
            var mem = Hardware.Memory;
            mem.Write(_status, 0);
            var bytes = Scalable ? (ulong)VtdQi.WideBytes : VtdQi.Bytes;
            foreach (var (lo, hi) in descs.Append(VtdQi.Wait(_status, WaitDone)))
            {
                mem.Write(_queue + _tail, lo);
                mem.Write(_queue + _tail + 8, hi);
                if (Scalable)
                {
                    mem.Write(_queue + _tail + 16, 0);
                    mem.Write(_queue + _tail + 24, 0);
                }
                _tail = (_tail + bytes) % (256 * VtdQi.Bytes);
                Hardware.WriteReg(VtdRegs.Iqt, _tail);
            }
            if ((uint)mem.Read(_status) != WaitDone) throw new InvalidOperationException("invalidation wait did not complete (IQE)");
        }
    }

    /// <summary>
    /// iommu_flush_iotlb_psi: one page-selective invalidation of the smallest aligned power-of-two region covering
    /// [start, last] (domain-selective when it exceeds MAMV), then a wait.
    /// </summary>
    public void FlushIotlbRange(int did, ulong start, ulong last)
    {
        var am = 0;
        while (am <= VtdQi.MaxAm && (start >> (12 + am)) != (last >> (12 + am))) am++;
        SubmitSync([am > VtdQi.MaxAm ? VtdQi.IotlbDomain(did) : VtdQi.IotlbPage(did, start, am)]);
    }
}
