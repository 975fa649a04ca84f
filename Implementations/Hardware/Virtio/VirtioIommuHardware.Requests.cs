using System.Buffers.Binary;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Hardware.Virtio;

/// <summary>
/// The request queue (virtio_iommu_handle_command). Each element: a device-readable head {type} and body, a
/// device-writable tail {status} (for PROBE, the properties first). A head or body shorter than its type needs →
/// DEVERR; an unknown type → UNSUPP; a writable part too short for the tail (nowhere to answer) or a malformed chain
/// → the device needs a reset and stops (virtio_error). Statuses per type, as QEMU answers them (hardware-and-peers
/// §1.1), except that ATTACH checks a bypass-flag mismatch before moving the endpoint, so a failed ATTACH changes
/// nothing, and UNMAP is spec-strict (RANGE removes nothing).
/// </summary>
public sealed partial class VirtioIommuHardware
{
    private void ProcessRequests()
    {
        var vq = _vqs[ViommuRegs.RequestQueue];
        if ((_status & ViommuRegs.StatusNeedsReset) != 0) return;
        while (vq.Pop() is { } e)
        {
            if (e.InBytes < ViommuReq.TailBytes)
            {
                _status |= ViommuRegs.StatusNeedsReset;
                return;
            }
            var req = vq.ReadOut(e, ViommuReq.ProbeBytes);
            if (req is null)
            {
                _status |= ViommuRegs.StatusNeedsReset;
                return;
            }
            Requests++;
            var props = Array.Empty<byte>();
            var status = req.Length < 4 ? VirtioIommuStatus.DevErr : Dispatch(req, ref props);
            if (status != VirtioIommuStatus.Ok) RequestErrors++;
            var reply = new byte[props.Length + ViommuReq.TailBytes];
            props.CopyTo(reply, 0);
            reply[props.Length] = (byte)status;
            if (!vq.WriteIn(e, reply))
            {
                _status |= ViommuRegs.StatusNeedsReset;
                return;
            }
            vq.Push(e, (uint)Math.Min(reply.Length, e.InBytes));
        }
        if (vq.Broken) _status |= ViommuRegs.StatusNeedsReset;
    }

    private VirtioIommuStatus Dispatch(byte[] req, ref byte[] props)
    {
        var type = req[0];
        var need = type switch
        {
            ViommuReq.Attach => ViommuReq.AttachBytes,
            ViommuReq.Detach => ViommuReq.DetachBytes,
            ViommuReq.Map => ViommuReq.MapBytes,
            ViommuReq.Unmap => ViommuReq.UnmapBytes,
            ViommuReq.Probe => ViommuReq.ProbeBytes,
            _ => -1,
        };
        if (need < 0) return VirtioIommuStatus.Unsupp;
        if (req.Length < need) return VirtioIommuStatus.DevErr;
        uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(req.AsSpan(at));
        ulong U64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(req.AsSpan(at));
        switch (type)
        {
            case ViommuReq.Attach: return Attach(U32(4), U32(8), U32(12));
            case ViommuReq.Detach: return Detach(U32(4), U32(8));
            case ViommuReq.Map: return Map(U32(4), U64(8), U64(16), U64(24), U32(32));
            case ViommuReq.Unmap: return Unmap(U32(4), U64(8), U64(16));
            default:
                props = new byte[ProbeSize];
                return Probe(U32(4), props);
        }
    }

    private bool IsEndpoint(uint id) => id <= int.MaxValue && DevicesAt((int)id).Any();

    // virtio_iommu_attach: the endpoint leaves its old domain (which goes when empty) and joins the new one
    private VirtioIommuStatus Attach(uint domainId, uint epId, uint flags)
    {
        if ((flags & ~ViommuReq.AttachFBypass) != 0) return VirtioIommuStatus.Inval;
        if (domainId < DomainStart || domainId > DomainEnd) return VirtioIommuStatus.Range;
        if (!IsEndpoint(epId)) return VirtioIommuStatus.NoEnt;
        var bypass = (flags & ViommuReq.AttachFBypass) != 0;
        if (bypass && (_driverFeatures & ViommuFeatures.BypassConfig) == 0) return VirtioIommuStatus.Inval;
        _endpoints.TryGetValue(epId, out var ep);
        // A domain that survives the move and was created with the other bypass flag refuses the endpoint.
        if (_domains.TryGetValue(domainId, out var existing) && existing.Bypass != bypass
            && !(ep?.Domain == existing && existing.Endpoints.Count == 1))
            return VirtioIommuStatus.Inval;
        ep ??= _endpoints[epId] = new Endpoint(epId);
        DetachEndpoint(ep);
        if (!_domains.TryGetValue(domainId, out var domain))
            _domains[domainId] = domain = new DeviceDomain(domainId, bypass, new VirtioMappingTable(PageSizeMask, InputStart, InputEnd));
        domain.Endpoints.Add(epId);
        ep.Domain = domain;
        return VirtioIommuStatus.Ok;
    }

    // virtio_iommu_detach
    private VirtioIommuStatus Detach(uint domainId, uint epId)
    {
        if (!_endpoints.TryGetValue(epId, out var ep)) return VirtioIommuStatus.NoEnt;
        if (ep.Domain is not { } d || d.Id != domainId) return VirtioIommuStatus.Inval;
        DetachEndpoint(ep);
        return VirtioIommuStatus.Ok;
    }

    private void DetachEndpoint(Endpoint ep)
    {
        if (ep.Domain is not { } old) return;
        old.Endpoints.Remove(ep.Id);
        ep.Domain = null;
        if (old.Endpoints.Count == 0) _domains.Remove(old.Id);   // with its mappings
    }

    // virtio_iommu_map
    private VirtioIommuStatus Map(uint domainId, ulong virtStart, ulong virtEnd, ulong physStart, uint flags)
    {
        if ((flags & ~ViommuReq.MapFMask) != 0) return VirtioIommuStatus.Inval;
        if (!_domains.TryGetValue(domainId, out var d)) return VirtioIommuStatus.NoEnt;
        if (d.Bypass) return VirtioIommuStatus.Inval;
        return d.Mappings.Map(virtStart, virtEnd, physStart, (VirtioMapFlags)flags);
    }

    // virtio_iommu_unmap, spec-strict: a mapping across either end → RANGE and nothing removed
    private VirtioIommuStatus Unmap(uint domainId, ulong virtStart, ulong virtEnd)
    {
        if (!_domains.TryGetValue(domainId, out var d)) return VirtioIommuStatus.NoEnt;
        if (d.Bypass) return VirtioIommuStatus.Inval;
        return d.Mappings.Unmap(virtStart, virtEnd);
    }

    // virtio_iommu_probe: the endpoint's reserved regions as RESV_MEM properties, then NONE (zeroes)
    private VirtioIommuStatus Probe(uint epId, byte[] props)
    {
        if (!IsEndpoint(epId)) return VirtioIommuStatus.NoEnt;
        var at = 0;
        foreach (var (start, end, subtype) in _resv.GetValueOrDefault(epId) ?? [])
        {
            if (at + ViommuProbe.ResvMemBytes > props.Length) return VirtioIommuStatus.Inval;
            var p = props.AsSpan(at);
            BinaryPrimitives.WriteUInt16LittleEndian(p, ViommuProbe.TResvMem);
            BinaryPrimitives.WriteUInt16LittleEndian(p[2..], ViommuProbe.ResvMemBytes - 4);
            p[4] = subtype;
            BinaryPrimitives.WriteUInt64LittleEndian(p[8..], start);
            BinaryPrimitives.WriteUInt64LittleEndian(p[16..], end);
            at += ViommuProbe.ResvMemBytes;
        }
        return VirtioIommuStatus.Ok;
    }
}
