namespace IommuConformance.Implementations.Hardware.Vtd;

/// <summary>
/// VT-d register offsets and in-memory layouts both sides use (intel-iommu.h, legacy mode): the driver encodes with
/// them, the emulated remapping unit decodes with them. Only the fields this emulation reads are listed.
/// </summary>
public static class VtdRegs
{
    public const int Cap = 0x08;       // CM bit 7 (caching mode), NFR [47:40] (fault records − 1)
    public const int Ecap = 0x10;      // SMTS bit 43 (scalable mode)
    public const int Fsts = 0x34;      // PFO bit 0, PPF bit 1, IQE bit 4 (write 1 to clear)
    public const int Rtaddr = 0x20;
    public const int Fectl = 0x38, Fedata = 0x3C, Feaddr = 0x40;   // FECTL: IM bit 31 (masked at reset), IP bit 30
    public const int Iqh = 0x80, Iqt = 0x88, Iqa = 0x90;   // IQA: base [63:12], QS [2:0] (2^QS × 256 descriptors)
    public const int Frcd = 0x200;     // fault record i at 0x200 + 16 i: lo = FI (address), hi: SID [15:0], FR [39:32], T bit 62 (1 = read), F bit 63

    public const ulong CapCm = 1UL << 7;
    public const uint FstsPfo = 1, FstsPpf = 2, FstsIqe = 1 << 4;
    public const ulong FrcdF = 1UL << 63, FrcdRead = 1UL << 62;
    public const uint FectlIm = 1u << 31, FectlIp = 1u << 30;
}

/// <summary>Root and context entries (128 bits each; both words used).</summary>
public static class VtdEntry
{
    public const int Bytes = 16;
    public const ulong P = 1;
    public const ulong Fpd = 1UL << 1;                 // context lo FPD: qualified faults are not recorded
    public const ulong AddrMask = ((1UL << 52) - 1) & ~0xFFFUL;
    public const int TtShift = 2;                      // context lo TT [3:2]: 0 = multi-level, 2 = pass-through
    public const ulong TtMultiLevel = 0, TtPassThrough = 2;
    public const int DidShift = 8;                     // context hi DID [23:8], AW [2:0]

    public static (ulong Lo, ulong Hi) Translate(ulong slptptr, int aw, int did) =>
        (P | (TtMultiLevel << TtShift) | (slptptr & AddrMask), (ulong)(uint)(aw & 7) | ((ulong)(ushort)did << DidShift));

    public static (ulong Lo, ulong Hi) PassThrough(int did) => (P | (TtPassThrough << TtShift), 2UL | ((ulong)(ushort)did << DidShift));
}

/// <summary>Queued-invalidation descriptors (128 bits): type [3:0] and their fields.</summary>
public static class VtdQi
{
    public const int Bytes = 16;
    public const byte CcType = 1, IotlbType = 2, WaitType = 5;
    public const int GranShift = 4;                    // G [5:4]: 1 global, 2 domain, 3 device / page
    public const int DidShift = 16;                    // DID [31:16]
    public const int SidShift = 32;                    // CC: SID [47:32]
    public const ulong WaitSw = 1UL << 5;              // status write; data [63:32], hi: address [63:2]
    public const int MaxAm = 18;                       // CAP.MAMV: up to 2^18 pages (1 GiB)

    public static (ulong, ulong) ContextGlobal() => (CcType | (1UL << GranShift), 0);
    public static (ulong, ulong) ContextDevice(int did, int sid) => (CcType | (3UL << GranShift) | ((ulong)(ushort)did << DidShift) | ((ulong)(ushort)sid << SidShift), 0);
    public static (ulong, ulong) IotlbGlobal() => (IotlbType | (1UL << GranShift), 0);
    public static (ulong, ulong) IotlbDomain(int did) => (IotlbType | (2UL << GranShift) | ((ulong)(ushort)did << DidShift), 0);

    /// <summary>Page-selective: 2^AM pages from ADDR (ADDR aligned to that size).</summary>
    public static (ulong, ulong) IotlbPage(int did, ulong addr, int am) =>
        (IotlbType | (3UL << GranShift) | ((ulong)(ushort)did << DidShift), (addr & ~0xFFFUL) | (uint)(am & 0x3F));

    // Scalable mode: 256-bit descriptors (IQA.DW bit 11; the upper 128 bits are zero for every type used here).
    public const ulong IqaDw = 1UL << 11;
    public const int WideBytes = 32;
    public const byte PiotlbType = 6, PcType = 7;      // p_iotlb_inv_dsc, pc_inv_dsc
    public const int PasidShift = 32;                  // PASID [51:32]

    /// <summary>qi_flush_pasid_cache: QI_PC_PASID_SEL (1), or QI_PC_ALL_PASIDS (0) of a DID, or QI_PC_GLOBAL (3).</summary>
    public static (ulong, ulong) PasidCache(int gran, int did, uint pasid) =>
        (PcType | ((ulong)(gran & 3) << GranShift) | ((ulong)(ushort)did << DidShift) | ((ulong)(pasid & 0xFFFFF) << PasidShift), 0);

    /// <summary>qi_flush_piotlb: all of (DID, PASID) (QI_GRAN_NONG_PASID, 2) when <paramref name="am"/> is null, else 2^AM pages from ADDR (QI_GRAN_PSI_PASID, 3).</summary>
    public static (ulong, ulong) PasidIotlb(int did, uint pasid, ulong addr = 0, int? am = null) =>
        (PiotlbType | ((am is null ? 2UL : 3UL) << GranShift) | ((ulong)(ushort)did << DidShift) | ((ulong)(pasid & 0xFFFFF) << PasidShift),
            am is { } a ? (addr & ~0xFFFUL) | (uint)(a & 0x3F) : 0);

    public static (ulong, ulong) Wait(ulong statusAddr, uint data) => (WaitType | WaitSw | ((ulong)data << 32), statusAddr & ~3UL);
}

/// <summary>VT-d fault reasons (the FR field) this emulation raises.</summary>
public static class VtdFaultReason
{
    public const byte RootNotPresent = 0x01, ContextNotPresent = 0x02, AddressBeyondMgaw = 0x04;
    public const byte Write = 0x05, Read = 0x06, PagingEntryAccess = 0x07;

    // Scalable mode (dmar.c dma_remap_sm_fault_reasons, from 0x30): root entry access / not present, context entry
    // access / not present, PASID past the directory, PASID directory entry access / not present, PASID-table entry
    // access / not present, and an invalid PASID entry (a PGTT this unit does not implement: nested).
    public const byte SmRootAccess = 0x38, SmRootNotPresent = 0x39, SmContextAccess = 0x40, SmContextNotPresent = 0x41;
    public const byte SmPasidTooLarge = 0x46, SmPasidDirAccess = 0x50, SmPasidDirNotPresent = 0x51;
    public const byte SmPasidEntryAccess = 0x58, SmPasidEntryNotPresent = 0x59, SmPasidEntryInvalid = 0x5B;
}
