namespace IommuConformance.Implementations.Hardware.Virtio;

/// <summary>Request types (VIRTIO_IOMMU_T_*, include/uapi/linux/virtio_iommu.h).</summary>
public static class ViommuReq
{
    public const byte Attach = 1, Detach = 2, Map = 3, Unmap = 4, Probe = 5;

    /// <summary>The tail: status (u8) and three reserved bytes, in the device-writable part.</summary>
    public const int TailBytes = 4;

    /// <summary>Device-readable bytes of each request (head and body, tail excluded).</summary>
    public const int AttachBytes = 20, DetachBytes = 20, MapBytes = 36, UnmapBytes = 28, ProbeBytes = 72;

    /// <summary>ATTACH flags.</summary>
    public const uint AttachFBypass = 1;

    /// <summary>MAP flags (VIRTIO_IOMMU_MAP_F_*).</summary>
    public const uint MapFRead = 1, MapFWrite = 2, MapFMmio = 4, MapFMask = 7;
}

/// <summary>Feature bits (VIRTIO_IOMMU_F_*), plus VIRTIO_F_VERSION_1.</summary>
public static class ViommuFeatures
{
    public const ulong InputRange = 1UL << 0, DomainRange = 1UL << 1, MapUnmap = 1UL << 2, Bypass = 1UL << 3,
        Probe = 1UL << 4, Mmio = 1UL << 5, BypassConfig = 1UL << 6, Version1 = 1UL << 32;
}

/// <summary>Fault reasons and flags of the event queue (struct virtio_iommu_fault: 24 bytes).</summary>
public static class ViommuFault
{
    public const byte Unknown = 0, Domain = 1, Mapping = 2;
    public const uint FRead = 1, FWrite = 2, FExec = 4, FAddress = 0x100;
    public const int Bytes = 24;
}

/// <summary>PROBE properties.</summary>
public static class ViommuProbe
{
    public const ushort TNone = 0, TResvMem = 1;
    public const byte ResvMemReserved = 0, ResvMemMsi = 1;

    /// <summary>struct virtio_iommu_probe_resv_mem: head (type, length), subtype, reserved, start, end.</summary>
    public const int ResvMemBytes = 24;
}

/// <summary>
/// The transport's registers (a virtio-mmio-like layout) and the device config space (struct virtio_iommu_config)
/// at <see cref="Config"/>. Queue registers act on the queue <see cref="QueueSel"/> names.
/// </summary>
public static class ViommuRegs
{
    public const int DeviceFeatures = 0x10, DriverFeatures = 0x20, QueueSel = 0x30, QueueNumMax = 0x34, QueueNum = 0x38,
        QueueReady = 0x44, QueueNotify = 0x50, Status = 0x70, QueueDesc = 0x80, QueueAvail = 0x90, QueueUsed = 0xA0;

    public const int Config = 0x100;
    public const int PageSizeMask = Config + 0x00, InputStart = Config + 0x08, InputEnd = Config + 0x10,
        DomainStart = Config + 0x18, DomainEnd = Config + 0x1C, ProbeSize = Config + 0x20, BypassCfg = Config + 0x24;

    /// <summary>Device status bits: DRIVER_OK, DEVICE_NEEDS_RESET.</summary>
    public const ulong StatusDriverOk = 4, StatusNeedsReset = 0x40;

    public const int RequestQueue = 0, EventQueue = 1;
}

/// <summary>Split virtqueue layout: 16-byte descriptors, the avail ring (flags, idx, ring[u16]), the used ring (flags, idx, ring[{u32 id, u32 len}]).</summary>
public static class Vring
{
    public const int DescBytes = 16;
    public const ushort FNext = 1, FWrite = 2;

    public static ulong AvailRingBytes(int num) => 4 + 2UL * (ulong)num;

    public static ulong UsedRingBytes(int num) => 4 + 8UL * (ulong)num;
}
