using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Hardware.Virtio;

/// <summary>
/// An emulated virtio-iommu device (after QEMU hw/virtio/virtio-iommu.c; virtio-iommu spec v0.12 / UAPI
/// virtio_iommu.h). The driver talks to it only through two virtqueues in emulated memory: the request queue
/// (ATTACH, DETACH, MAP, UNMAP, PROBE; each a readable head + body and a writable tail with the status) and the
/// event queue (buffers the driver posts, into which the device writes faults). The device keeps the state
/// itself, as QEMU does: endpoints (created by their first ATTACH) and domains, each domain's mappings in an
/// interval map (<see cref="VirtioMappingTable"/>: spec-strict UNMAP). A domain disappears with its mappings when
/// its last endpoint leaves. There is no IOTLB: every DMA looks the mapping up. Unattached endpoints follow the
/// config's bypass bit (1 at boot unless built otherwise). A requester id is the endpoint id.
/// </summary>
public sealed partial class VirtioIommuHardware : IommuHardware
{
    public const int QueueSize = 64;
    public const int DefaultProbeSize = 64;

    private sealed class Endpoint(uint id)
    {
        public uint Id => id;
        public DeviceDomain? Domain { get; set; }
    }

    private sealed class DeviceDomain(uint id, bool bypass, VirtioMappingTable mappings)
    {
        public uint Id => id;
        public bool Bypass => bypass;
        public HashSet<uint> Endpoints { get; } = [];
        public VirtioMappingTable Mappings => mappings;
    }

    private readonly Dictionary<uint, Endpoint> _endpoints = [];
    private readonly Dictionary<uint, DeviceDomain> _domains = [];
    private readonly Dictionary<uint, List<(ulong Start, ulong End, byte Subtype)>> _resv = [];
    private readonly DeviceVirtqueue[] _vqs;
    private readonly bool _bootBypass;
    private int _queueSel;
    private ulong _driverFeatures, _status;
    private byte _bypass;

    /// <param name="inputBits">The input range is [0, 2^inputBits − 1] (32 or 48).</param>
    /// <param name="bootBypass">config.bypass at reset (QEMU's boot-bypass property, on by default).</param>
    /// <param name="bypassConfig">The device offers VIRTIO_IOMMU_F_BYPASS_CONFIG (bypass domains and the bypass bit).</param>
    /// <param name="probeSize">config.probe_size (0: no VIRTIO_IOMMU_F_PROBE).</param>
    public VirtioIommuHardware(string instance, HardwarePlatform platform, int inputBits = 48, bool bootBypass = true,
        bool bypassConfig = true, int probeSize = DefaultProbeSize) : base(instance, platform)
    {
        InputEnd = inputBits >= 64 ? ulong.MaxValue : (1UL << inputBits) - 1;
        _bootBypass = bootBypass;
        _bypass = bootBypass ? (byte)1 : (byte)0;
        ProbeSize = probeSize;
        Features = ViommuFeatures.Version1 | ViommuFeatures.MapUnmap | ViommuFeatures.InputRange | ViommuFeatures.DomainRange
                   | ViommuFeatures.Mmio | (bypassConfig ? ViommuFeatures.BypassConfig : 0) | (probeSize > 0 ? ViommuFeatures.Probe : 0);
        _vqs = [new DeviceVirtqueue(platform.Memory), new DeviceVirtqueue(platform.Memory)];
    }

    public const ulong PageSizeMask = 0x1000;
    public ulong InputStart => 0;
    public ulong InputEnd { get; }
    public uint DomainStart => 0;
    public uint DomainEnd => uint.MaxValue;
    public int ProbeSize { get; }
    public ulong Features { get; }

    /// <summary>config.bypass now.</summary>
    public bool Bypass
    {
        get { lock (Gate) return _bypass != 0; }
    }

    /// <summary>DEVICE_NEEDS_RESET: a malformed queue made the device stop (virtio_error).</summary>
    public bool NeedsReset
    {
        get { lock (Gate) return (_status & ViommuRegs.StatusNeedsReset) != 0; }
    }

    public long Requests { get; private set; }
    public long RequestErrors { get; private set; }
    public long EventsRecorded { get; private set; }
    public long EventsDropped { get; private set; }

    protected override string EntryName => "endpoint";

    /// <summary>A reserved region the device reports for an endpoint in PROBE (and honours in translation), for tests.</summary>
    public void AddReservedRegion(int endpoint, ulong start, ulong end, byte subtype)
    {
        lock (Gate)
        {
            if (!_resv.TryGetValue((uint)endpoint, out var list)) _resv[(uint)endpoint] = list = [];
            list.Add((start, end, subtype));
        }
    }

    /// <summary>Domain ids the device holds now, and each one's mapping count, for tests.</summary>
    public IReadOnlyDictionary<uint, int> DomainMappingCounts
    {
        get { lock (Gate) return _domains.ToDictionary(d => d.Key, d => d.Value.Mappings.Count); }
    }

    /// <summary>The endpoints attached to a device domain (0 when the device has no such domain), for the checks.</summary>
    public int EndpointCountOf(uint domain)
    {
        lock (Gate) return _domains.TryGetValue(domain, out var d) ? d.Endpoints.Count : 0;
    }

    /// <summary>The mappings of a device domain (empty when the device has no such domain), for tests.</summary>
    public IReadOnlyList<VirtioMapping> MappingsOf(uint domain)
    {
        lock (Gate) return _domains.TryGetValue(domain, out var d) ? [.. d.Mappings.Mappings] : [];
    }

    public ulong ReadReg(int offset)
    {
        lock (Gate)
        {
            var vq = _vqs[_queueSel];
            return offset switch
            {
                ViommuRegs.DeviceFeatures => Features,
                ViommuRegs.DriverFeatures => _driverFeatures,
                ViommuRegs.Status => _status,
                ViommuRegs.QueueSel => (ulong)_queueSel,
                ViommuRegs.QueueNumMax => QueueSize,
                ViommuRegs.QueueNum => (ulong)vq.Num,
                ViommuRegs.QueueReady => vq.Ready ? 1UL : 0,
                ViommuRegs.QueueDesc => vq.Desc,
                ViommuRegs.QueueAvail => vq.Avail,
                ViommuRegs.QueueUsed => vq.Used,
                ViommuRegs.PageSizeMask => PageSizeMask,
                ViommuRegs.InputStart => InputStart,
                ViommuRegs.InputEnd => InputEnd,
                ViommuRegs.DomainStart => DomainStart,
                ViommuRegs.DomainEnd => DomainEnd,
                ViommuRegs.ProbeSize => (ulong)ProbeSize,
                ViommuRegs.BypassCfg => _bypass,
                _ => 0,
            };
        }
    }

    /// <summary>A register write. QueueNotify of the request queue makes the device process every available request.</summary>
    public void WriteReg(int offset, ulong value)
    {
        lock (Gate)
        {
            var vq = _vqs[_queueSel];
            switch (offset)
            {
                case ViommuRegs.DriverFeatures: _driverFeatures = value & Features; break;
                case ViommuRegs.Status:
                    if (value == 0) Reset();
                    else _status = value | (_status & ViommuRegs.StatusNeedsReset);
                    break;
                case ViommuRegs.QueueSel: _queueSel = value < (ulong)_vqs.Length ? (int)value : _queueSel; break;
                case ViommuRegs.QueueNum: vq.Num = (int)Math.Min(value, QueueSize); break;
                case ViommuRegs.QueueDesc: vq.Desc = value; break;
                case ViommuRegs.QueueAvail: vq.Avail = value; break;
                case ViommuRegs.QueueUsed: vq.Used = value; break;
                case ViommuRegs.QueueReady: vq.Ready = value != 0; break;
                case ViommuRegs.QueueNotify when value == ViommuRegs.RequestQueue: ProcessRequests(); break;
                // The bit is writable only once the driver accepted BYPASS_CONFIG (spec 5.13.4).
                case ViommuRegs.BypassCfg when (_driverFeatures & ViommuFeatures.BypassConfig) != 0: _bypass = (byte)(value & 1); break;
            }
        }
    }

    // virtio_iommu_device_reset: endpoints and domains go; bypass goes back to its boot value (QEMU keeps it across
    // a device reset only when the driver wrote it; this device restores the boot value, as on a system reset).
    private void Reset()
    {
        _endpoints.Clear();
        _domains.Clear();
        _status = 0;
        _driverFeatures = 0;
        _bypass = _bootBypass ? (byte)1 : (byte)0;
        foreach (var vq in _vqs) vq.Reset();
    }

    // ---------------------------------------------------------------- translation

    protected override HwContext Decode(int rid)
    {
        // A device never attached (no endpoint object yet) and a detached endpoint both follow config.bypass.
        if (!_endpoints.TryGetValue((uint)rid, out var ep) || ep.Domain is not { } d) return new HwContext(_bypass != 0 ? HwContextKind.Bypass : HwContextKind.Abort, null);
        return d.Bypass ? new HwContext(HwContextKind.Bypass, null) : new HwContext(HwContextKind.Translate, (int)d.Id);
    }

    // virtio_iommu_translate
    private DmaTranslation Resolve(int rid, ulong iova, IommuPerm access, bool record)
    {
        var pass = DmaTranslation.Ok(iova, ulong.MaxValue);
        if (!_endpoints.TryGetValue((uint)rid, out var ep))
            // UNKNOWN in the event; for a real device never attached it is what VT-d's not-present context entry is: blocked
            return _bypass != 0 ? pass : Fault(rid, iova, access, ViommuFault.Unknown, DmaFault.Blocked, record);
        if (ep.Domain is not { } d)
            return _bypass != 0 ? pass : Fault(rid, iova, access, ViommuFault.Domain, DmaFault.Blocked, record);
        if (d.Bypass) return pass;
        if (_resv.TryGetValue(ep.Id, out var regions))
            foreach (var (start, end, subtype) in regions)
                if (iova >= start && iova <= end)
                    return subtype == ViommuProbe.ResvMemMsi
                        ? DmaTranslation.Ok(iova, end)
                        : Fault(rid, iova, access, ViommuFault.Mapping, DmaFault.Translation, record);
        if (d.Mappings.Find(iova) is not { } m) return Fault(rid, iova, access, ViommuFault.Mapping, DmaFault.Translation, record);
        var need = access == IommuPerm.Write ? VirtioMapFlags.Write : VirtioMapFlags.Read;
        if ((m.Flags & need) == 0) return Fault(rid, iova, access, ViommuFault.Mapping, DmaFault.Permission, record);
        return DmaTranslation.Ok(m.PhysStart + (iova - m.VirtStart), m.VirtEnd);
    }

    protected override DmaTranslation TranslateOne(int rid, ulong iova, IommuPerm access)
    {
        Walks++;
        return Resolve(rid, iova, access, record: true);
    }

    /// <summary>No tables in memory to report: the device keeps each domain's mappings itself.</summary>
    protected override void CollectTables(int rid, bool withPages, List<HardwareTable> found) { }

    protected override void Peek(int rid, ulong iova, IommuPerm access, List<PossibleTranslation> found) =>
        found.Add(new(TranslationSource.FreshWalk, Resolve(rid, iova, access, record: false)));

    private DmaTranslation Fault(int rid, ulong iova, IommuPerm access, byte reason, DmaFault fault, bool record)
    {
        if (record) ReportFault(rid, iova, access, reason);
        return DmaTranslation.Faulted(fault);
    }

    // virtio_iommu_report_fault: one event buffer per fault; none posted → dropped
    private void ReportFault(int rid, ulong iova, IommuPerm access, byte reason)
    {
        var vq = _vqs[ViommuRegs.EventQueue];
        if (vq.Pop() is not { } buf || buf.InBytes < ViommuFault.Bytes)
        {
            EventsDropped++;
            return;
        }
        var flags = ViommuFault.FAddress | (access == IommuPerm.Write ? ViommuFault.FWrite : ViommuFault.FRead);
        var ev = new byte[ViommuFault.Bytes];
        ev[0] = reason;
        BitConverter.TryWriteBytes(ev.AsSpan(4), reason == ViommuFault.Mapping ? flags : ViommuFault.FAddress);
        BitConverter.TryWriteBytes(ev.AsSpan(8), (uint)rid);
        BitConverter.TryWriteBytes(ev.AsSpan(16), iova);
        if (!vq.WriteIn(buf, ev))
        {
            EventsDropped++;
            return;
        }
        vq.Push(buf, ViommuFault.Bytes);
        EventsRecorded++;
    }
}
