using System.Buffers.Binary;
using IommuConformance.Contract;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Memory;
using IommuConformance.Implementations.Hardware.Virtio;
using IommuConformance.Implementations.PageTable;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>
/// A bare emulated virtio-iommu device with endpoints ep0, ep1, … (endpoint id = index) and a test-side driver
/// that writes raw requests into the request queue and reads their status back, the way the qtests do: no
/// IOMMU core, no virtio driver. Event buffers are posted at start; <see cref="Faults"/> reads the used ones.
/// </summary>
internal sealed class VirtioRig
{
    public const ulong P = 0x1000;

    private readonly ulong _buf, _events;

    public VirtioRig(int endpoints = 2, bool bootBypass = true, bool negotiate = true, int probeSize = VirtioIommuHardware.DefaultProbeSize)
    {
        Platform = new HardwarePlatform();
        Hw = new VirtioIommuHardware("virtio0", Platform, bootBypass: bootBypass, probeSize: probeSize);
        Hw.AssignRequesters(Enumerable.Range(0, endpoints).Select(i => new Device(new DeviceSpec($"ep{i}", BusNames.Pci, "virtio0", $"g{i}"), null)));
        if (negotiate) Hw.WriteReg(ViommuRegs.DriverFeatures, Hw.ReadReg(ViommuRegs.DeviceFeatures));
        Requests = new ViommuVirtqueue(Hw, Platform.Allocator, ViommuRegs.RequestQueue);
        Events = new ViommuVirtqueue(Hw, Platform.Allocator, ViommuRegs.EventQueue);
        Assert.Equal(Errno.OK, Platform.Allocator.Alloc(0, out _buf));
        Assert.Equal(Errno.OK, Platform.Allocator.Alloc(0, out _events));
        for (var i = 0; i < 8; i++) Events.AddSgs([], [(_events + (ulong)(i * ViommuFault.Bytes), ViommuFault.Bytes)], out _);
        Hw.WriteReg(ViommuRegs.Status, ViommuRegs.StatusDriverOk);
    }

    public HardwarePlatform Platform { get; }
    public VirtioIommuHardware Hw { get; }
    public ViommuVirtqueue Requests { get; }
    public ViommuVirtqueue Events { get; }

    /// <summary>
    /// One request: <paramref name="readable"/> then <paramref name="writable"/> bytes in one buffer, queued, kicked and
    /// collected. The status byte (last 4 bytes of the writable part), or null when the device did not complete it.
    /// </summary>
    public VirtioIommuStatus? Send(byte[] readable, int writable = ViommuReq.TailBytes) => SendFull(readable, writable).Status;

    public (VirtioIommuStatus? Status, byte[] Reply) SendFull(byte[] readable, int writable = ViommuReq.TailBytes)
    {
        var mem = Platform.Memory;
        var fill = new byte[readable.Length + writable];
        readable.CopyTo(fill, 0);
        Array.Fill(fill, (byte)0xEE, readable.Length, writable);   // the device must overwrite the status
        ByteAccess.Write(mem, _buf, fill);
        Assert.Equal(Errno.OK, Requests.AddSgs([(_buf, (uint)readable.Length)], writable == 0 ? [] : [(_buf + (ulong)readable.Length, (uint)writable)], out _));
        Requests.Kick();
        if (Requests.GetBuf() is not { } used || used.Len == 0) return (null, []);
        var reply = new byte[writable];
        ByteAccess.Read(mem, _buf + (ulong)readable.Length, reply);
        return ((VirtioIommuStatus)reply[used.Len - ViommuReq.TailBytes], reply);
    }

    public static byte[] AttachReq(uint domain, uint ep, uint flags = 0, byte type = ViommuReq.Attach)
    {
        var r = new byte[ViommuReq.AttachBytes];
        r[0] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), domain);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(8), ep);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(12), flags);
        return r;
    }

    public VirtioIommuStatus? Attach(uint domain, uint ep, uint flags = 0) => Send(AttachReq(domain, ep, flags));

    public VirtioIommuStatus? Detach(uint domain, uint ep) => Send(AttachReq(domain, ep, 0, ViommuReq.Detach));

    public static byte[] MapReq(uint domain, ulong start, ulong end, ulong phys, uint flags)
    {
        var r = new byte[ViommuReq.MapBytes];
        r[0] = ViommuReq.Map;
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), domain);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(8), start);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(16), end);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(24), phys);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(32), flags);
        return r;
    }

    public VirtioIommuStatus? Map(uint domain, ulong start, ulong end, ulong phys, uint flags = ViommuReq.MapFRead) =>
        Send(MapReq(domain, start, end, phys, flags));

    public static byte[] UnmapReq(uint domain, ulong start, ulong end)
    {
        var r = new byte[ViommuReq.UnmapBytes];
        r[0] = ViommuReq.Unmap;
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), domain);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(8), start);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(16), end);
        return r;
    }

    public VirtioIommuStatus? Unmap(uint domain, ulong start, ulong end) => Send(UnmapReq(domain, start, end));

    /// <summary>Pages [first, last] (the qtest's byte ranges [0,4] … read as 4 KiB pages, the device's granule).</summary>
    public VirtioIommuStatus? MapPages(uint domain, ulong first, ulong last, uint flags = ViommuReq.MapFRead) =>
        Map(domain, first * P, (last + 1) * P - 1, Phys(first), flags);

    public VirtioIommuStatus? UnmapPages(uint domain, ulong first, ulong last) => Unmap(domain, first * P, (last + 1) * P - 1);

    /// <summary>Where page <paramref name="page"/> of the S2 sequences is mapped to.</summary>
    public static ulong Phys(ulong page) => 0x4000_0000 + page * P;

    /// <summary>One DMA of 4 bytes by endpoint <paramref name="ep"/> (through the device, as a bus master would).</summary>
    public DmaTranslation Dma(int ep, ulong iova, bool write = false) => Hw.Translate($"ep{ep}", iova, 4, write);

    /// <summary>The faults the device wrote into event buffers since the last call (reason, flags, endpoint, address).</summary>
    public List<(byte Reason, uint Flags, uint Endpoint, ulong Address)> Faults()
    {
        var list = new List<(byte, uint, uint, ulong)>();
        while (Events.GetBuf() is { } used)
        {
            var at = _events + (ulong)(used.Head * ViommuFault.Bytes);
            var ev = new byte[ViommuFault.Bytes];
            ByteAccess.Read(Platform.Memory, at, ev);
            list.Add((ev[0], BinaryPrimitives.ReadUInt32LittleEndian(ev.AsSpan(4)), BinaryPrimitives.ReadUInt32LittleEndian(ev.AsSpan(8)),
                BinaryPrimitives.ReadUInt64LittleEndian(ev.AsSpan(16))));
            Events.AddSgs([], [(at, ViommuFault.Bytes)], out _);
        }
        return list;
    }
}
