using System.Buffers.Binary;
using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.Hardware.Virtio;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// struct viommu_dev: the driver's side of one virtio-iommu device. viommu_probe negotiates the features, reads
/// the config (page sizes, input range, domain range, probe size), sets up the request and event queues and fills
/// the event queue. Requests are built in a frame of request buffers (the kernel kzallocs them): a readable part
/// and a writable part, the status in the last 4 bytes. <see cref="SendReqSync"/>, <see cref="AddReq"/> and
/// <see cref="SyncReq"/> mirror viommu_send_req_sync, viommu_add_req and viommu_sync_req.
/// </summary>
public sealed class ViommuDev
{
    private const int SlotBytes = 256, Slots = (int)(PhysicalMemory.FrameSize / SlotBytes);

    // The driver's feature table (virtio_iommu_drv.feature_table) and VIRTIO_F_VERSION_1.
    private const ulong DriverFeatureTable = ViommuFeatures.Version1 | ViommuFeatures.MapUnmap | ViommuFeatures.InputRange
        | ViommuFeatures.DomainRange | ViommuFeatures.Probe | ViommuFeatures.Mmio | ViommuFeatures.BypassConfig;

    private readonly Lock _requestLock = new();   // viommu->request_lock
    private readonly ulong _buffers, _events;
    private readonly Stack<int> _freeSlots = new();
    private readonly Dictionary<ushort, (int Slot, int Len, int WriteOffset, byte[]? Writeback)> _requests = [];
    private readonly List<(byte Reason, uint Flags, uint Endpoint, ulong Address)> _faults = [];

    private readonly FrameAllocator _allocator;

    private ViommuDev(VirtioIommuHardware hw, FrameAllocator allocator)
    {
        Hardware = hw;
        _allocator = allocator;
        if (allocator.Alloc(0, out _buffers) != Errno.OK || allocator.Alloc(0, out _events) != Errno.OK)
            throw new InvalidOperationException("no memory for the virtio-iommu buffers at boot");
        for (var i = Slots - 1; i >= 0; i--) _freeSlots.Push(i);
        var offered = hw.ReadReg(ViommuRegs.DeviceFeatures);
        Features = offered & DriverFeatureTable;
        hw.WriteReg(ViommuRegs.DriverFeatures, Features);
        Requests = new ViommuVirtqueue(hw, allocator, ViommuRegs.RequestQueue);
        Events = new ViommuVirtqueue(hw, allocator, ViommuRegs.EventQueue);
        PgsizeBitmap = hw.ReadReg(ViommuRegs.PageSizeMask);
        ApertureStart = Has(ViommuFeatures.InputRange) ? hw.ReadReg(ViommuRegs.InputStart) : 0;
        ApertureEnd = Has(ViommuFeatures.InputRange) ? hw.ReadReg(ViommuRegs.InputEnd) : ulong.MaxValue;
        ProbeSize = Has(ViommuFeatures.Probe) ? (int)hw.ReadReg(ViommuRegs.ProbeSize) : 0;
        MapFlags = ViommuReq.MapFRead | ViommuReq.MapFWrite | (Has(ViommuFeatures.Mmio) ? ViommuReq.MapFMmio : 0);
        hw.WriteReg(ViommuRegs.Status, ViommuRegs.StatusDriverOk);   // virtio_device_ready
        FillEventQueue();
    }

    /// <summary>
    /// viommu_probe. Null when the device lacks VERSION_1 or MAP_UNMAP, or offers no page size (-ENODEV / -EINVAL).
    /// With BYPASS_CONFIG the driver also clears config.bypass, so that an endpoint with no domain (released, or on
    /// the blocked domain) faults instead of bypassing (docs/hardware.md: Linux leaves the boot value).
    /// </summary>
    public static ViommuDev? Probe(VirtioIommuHardware hw, FrameAllocator allocator)
    {
        var offered = hw.ReadReg(ViommuRegs.DeviceFeatures);
        if ((offered & ViommuFeatures.Version1) == 0 || (offered & ViommuFeatures.MapUnmap) == 0 || hw.ReadReg(ViommuRegs.PageSizeMask) == 0)
            return null;
        var dev = new ViommuDev(hw, allocator);
        if (dev.Has(ViommuFeatures.BypassConfig)) hw.WriteReg(ViommuRegs.BypassCfg, 0);
        return dev;
    }

    public VirtioIommuHardware Hardware { get; }
    public ulong Features { get; }
    public ulong PgsizeBitmap { get; }
    public ulong ApertureStart { get; }
    public ulong ApertureEnd { get; }
    public int ProbeSize { get; }
    public uint MapFlags { get; }
    public ViommuVirtqueue Requests { get; }
    public ViommuVirtqueue Events { get; }

    public bool Has(ulong feature) => (Features & feature) != 0;

    /// <summary>Requests the device completed without writing anything (the driver's IOERR), or that a broken device never completed.</summary>
    public long LostRequests { get; private set; }

    /// <summary>Faults the event handler read (viommu_fault_handler logs them).</summary>
    public IReadOnlyList<(byte Reason, uint Flags, uint Endpoint, ulong Address)> FaultLog
    {
        get { lock (_requestLock) return [.. _faults]; }
    }

    // viommu_get_req_errno
    public static Errno ToErrno(VirtioIommuStatus status) => PageTable.VirtioPgtable.ToErrno(status);

    /// <summary>viommu_send_req_sync: queue, kick, wait; the request's status as an errno, the writable part in <paramref name="reply"/>.</summary>
    public Errno SendReqSync(ReadOnlySpan<byte> request, int writableBytes, out byte[] reply, string? gateSite = null)
    {
        lock (_requestLock)
        {
            reply = new byte[writableBytes];
            var ret = AddReqLocked(request, writableBytes, reply, gateSite);
            if (ret != Errno.OK) return ret;
            SyncReqLocked();
            return ToErrno((VirtioIommuStatus)reply[^ViommuReq.TailBytes]);
        }
    }

    /// <summary>viommu_add_req: queue without waiting; the status is never read (the kernel frees the buffer at sync).</summary>
    public Errno AddReq(ReadOnlySpan<byte> request, string? gateSite = null)
    {
        lock (_requestLock) return AddReqLocked(request, ViommuReq.TailBytes, writeback: null, gateSite);
    }

    /// <summary>
    /// The machine's fault gate for one of the driver's own allocations (a mapping-tree node, a request's buffer): true
    /// when it must fail. The endpoint's PROBE, the ATTACH, the map and the unmap paths ask it (docs/dma.md, "Fault
    /// injection": DETACH requests are not gated).
    /// </summary>
    internal bool AllocFails(string site) => _allocator.TableGate?.ShouldFail(site) == true;

    /// <summary>Requests queued and not waited for yet (the device may not have seen them).</summary>
    public int QueuedRequests
    {
        get { lock (_requestLock) return _requests.Count; }
    }

    /// <summary>viommu_sync_req: kick and wait for every queued request.</summary>
    public void SyncReq()
    {
        lock (_requestLock) SyncReqLocked();
    }

    // __viommu_add_req: the readable part copied into a buffer (kzalloc, GFP_ATOMIC: -ENOMEM; asked of the gate for
    // gateSite), a writable part after it; a full queue is synced first
    private Errno AddReqLocked(ReadOnlySpan<byte> request, int writableBytes, byte[]? writeback, string? gateSite = null)
    {
        if (request.Length + writableBytes > SlotBytes) return Errno.EINVAL;
        if (gateSite is not null && AllocFails(gateSite)) return Errno.ENOMEM;
        if (_freeSlots.Count == 0 || Requests.NumFree < 2) SyncReqLocked();
        if (_freeSlots.Count == 0) return Errno.ENOSPC;
        var slot = _freeSlots.Pop();
        var at = _buffers + (ulong)(slot * SlotBytes);
        var buf = new byte[request.Length + writableBytes];
        request.CopyTo(buf);
        ByteAccess.Write(Hardware.Memory, at, buf);
        var ret = Requests.AddSgs([(at, (uint)request.Length)], [(at + (ulong)request.Length, (uint)writableBytes)], out var head);
        if (ret == Errno.ENOSPC)
        {
            SyncReqLocked();
            ret = Requests.AddSgs([(at, (uint)request.Length)], [(at + (ulong)request.Length, (uint)writableBytes)], out head);
        }
        if (ret != Errno.OK)
        {
            _freeSlots.Push(slot);
            return ret;
        }
        _requests[head] = (slot, buf.Length, request.Length, writeback);
        return Errno.OK;
    }

    // __viommu_sync_req: kick, then collect every used buffer. A device that stopped (DEVICE_NEEDS_RESET) never
    // completes the rest: they are answered IOERR here instead of the kernel's endless wait.
    private void SyncReqLocked()
    {
        Requests.Kick();
        HandleEvents();
        while (_requests.Count != 0)
        {
            if (Requests.GetBuf() is not { } used)
            {
                foreach (var (_, r) in _requests) Complete(r, 0);
                _requests.Clear();
                return;
            }
            if (!_requests.Remove(used.Head, out var req)) continue;
            Complete(req, used.Len);
        }
    }

    private void Complete((int Slot, int Len, int WriteOffset, byte[]? Writeback) req, uint len)
    {
        var writeLen = req.Len - req.WriteOffset;
        if (len == 0) LostRequests++;
        if (req.Writeback is { } wb)
        {
            if (len == writeLen) ByteAccess.Read(Hardware.Memory, _buffers + (ulong)(req.Slot * SlotBytes + req.WriteOffset), wb);
            else if (len == 0) wb[^ViommuReq.TailBytes] = (byte)VirtioIommuStatus.IoErr;
        }
        _freeSlots.Push(req.Slot);
    }

    // viommu_fill_evtq: every descriptor of the event queue gets a 24-byte buffer
    private void FillEventQueue()
    {
        for (var i = 0; Events.NumFree > 0; i++)
            Events.AddSgs([], [(_events + (ulong)(i * ViommuFault.Bytes), ViommuFault.Bytes)], out _);
    }

    /// <summary>viommu_event_handler: read each used event buffer (a fault), log it, post the buffer again.</summary>
    public void HandleEvents()
    {
        lock (_requestLock)
        {
            Span<byte> ev = stackalloc byte[ViommuFault.Bytes];
            while (Events.GetBuf() is { } used)
            {
                var at = _events + (ulong)(used.Head * ViommuFault.Bytes);
                ByteAccess.Read(Hardware.Memory, at, ev);
                if (used.Len <= ViommuFault.Bytes && (BinaryPrimitives.ReadUInt32LittleEndian(ev) & 0xFFFFFF00) == 0)
                    _faults.Add((ev[0], BinaryPrimitives.ReadUInt32LittleEndian(ev[4..]), BinaryPrimitives.ReadUInt32LittleEndian(ev[8..]),
                        BinaryPrimitives.ReadUInt64LittleEndian(ev[16..])));
                Events.AddSgs([], [(at, ViommuFault.Bytes)], out _);
            }
        }
    }
}
