namespace IommuConformance.Implementations.Hardware.Smmuv3;

/// <summary>
/// The SMMUv3 register offsets and in-memory layouts both sides use (arm-smmu-v3.h): the driver encodes with
/// them, the emulated hardware decodes with them. Only the fields this emulation reads are listed.
/// </summary>
public static class Smmuv3Regs
{
    public const int Idr1 = 0x04;            // SIDSIZE [5:0]
    public const int Gerror = 0x60;          // CMDQ_ERR bit 0, EVTQ_ABT_ERR bit 2
    public const int Gerrorn = 0x64;
    public const int StrtabBase = 0x80;      // ADDR [51:6]
    public const int StrtabBaseCfg = 0x88;   // LOG2SIZE [5:0], FMT [17:16] (0 = linear)
    public const int CmdqBase = 0x90;        // ADDR [51:5], LOG2SIZE [4:0]
    public const int CmdqProd = 0x98;
    public const int CmdqCons = 0x9c;        // ERR [30:24]
    public const int EvtqBase = 0xa0;
    public const int EvtqProd = 0x100a8;     // OVFLG bit 31
    public const int EvtqCons = 0x100ac;     // OVACKFLG bit 31

    public const uint GerrorCmdqErr = 1u << 0;
    public const uint GerrorEvtqAbtErr = 1u << 2;
    public const uint QOverflow = 1u << 31;
    public const int ConsErrShift = 24;
    public const ulong QBaseAddrMask = ((1UL << 52) - 1) & ~0x1FUL;
}

/// <summary>CMDQ_CONS.ERR codes (CMDQ_ERR_CERROR_*).</summary>
public enum Smmuv3CmdqError : uint { None = 0, Ill = 1, Abt = 2 }

/// <summary>STRTAB_STE_0 / CTXDESC_CD_0/1: one 64-byte STE and CD; word 0 and 1 carry every field used here.</summary>
public static class Smmuv3Ste
{
    public const int Bytes = 64;
    public const ulong V = 1UL << 0;
    public const int CfgShift = 1;              // CFG [3:1]
    public const ulong CfgMask = 7UL << CfgShift;
    public const ulong CfgAbort = 0, CfgBypass = 4, CfgS1Trans = 5;
    public const ulong S1CtxPtrMask = ((1UL << 52) - 1) & ~0x3FUL;   // [51:6]

    public static ulong Abort() => V | (CfgAbort << CfgShift);
    public static ulong Bypass() => V | (CfgBypass << CfgShift);
    public static ulong S1(ulong cdPtr) => V | (CfgS1Trans << CfgShift) | (cdPtr & S1CtxPtrMask);
}

public static class Smmuv3Cd
{
    public const int Bytes = 64;
    public const ulong T0szMask = 0x3F;            // [5:0]
    public const int Tg0Shift = 6;                 // [7:6]: 0 = 4K, 1 = 64K, 2 = 16K
    public const ulong V = 1UL << 31;
    public const int IpsShift = 32;                // [34:32]: 0..5 = 32, 36, 40, 42, 44, 48 bits
    public const ulong Aa64 = 1UL << 41;
    public const ulong R = 1UL << 45;              // record translation-class faults
    public const ulong A = 1UL << 46;
    public const int AsidShift = 48;               // [63:48]
    public const ulong Ttb0Mask = ((1UL << 52) - 1) & ~0xFUL;   // word 1 [51:4]

    public static readonly int[] IpsBits = [32, 36, 40, 42, 44, 48];

    public static ulong Word0(int asid, int ias, int ipsField) =>
        ((ulong)(64 - ias) & T0szMask) | V | ((ulong)ipsField << IpsShift) | Aa64 | R | A | ((ulong)(ushort)asid << AsidShift);
}

/// <summary>CMDQ_OP_* and the fields of a 16-byte command.</summary>
public static class Smmuv3Cmd
{
    public const int Bytes = 16;
    public const byte CfgiSte = 0x03, CfgiAll = 0x04, CfgiCd = 0x05;
    public const byte TlbiNhAsid = 0x11, TlbiNhVa = 0x12, TlbiNsnhAll = 0x30, CmdSync = 0x46;

    // TLBI_NH_VA: word 0 NUM [16:12], SCALE [24:20], ASID [63:48]; word 1 LEAF [0], TTL [9:8], TG [11:10], ADDR [63:12]
    public const int NumShift = 12, ScaleShift = 20, AsidShift = 48, TgShift = 10, TtlShift = 8;
    public const ulong Leaf = 1;   // TLBI_NH_VA word 1 bit 0
    public const ulong AddrMask = ~0xFFFUL;
    public const int SidShift = 32;                 // CFGI_STE / CFGI_CD: SID [63:32]
    public const int CsShift = 12;                  // CMD_SYNC: CS [13:12]; MSIDATA [63:32]; word 1 MSIADDR [51:2]
    public const ulong CsSev = 2;
    public const ulong MsiAddrMask = ((1UL << 52) - 1) & ~3UL;

    public static (ulong, ulong) CfgiSteFor(int sid) => (CfgiSte | ((ulong)(uint)sid << SidShift), 1);
    public static (ulong, ulong) CfgiCdFor(int sid) => (CfgiCd | ((ulong)(uint)sid << SidShift), 1);
    public static (ulong, ulong) TlbiAsid(int asid) => (TlbiNhAsid | ((ulong)(ushort)asid << AsidShift), 0);
    public static (ulong, ulong) TlbiAll() => (TlbiNsnhAll, 0);

    /// <summary>
    /// TLBI_NH_VA, range form: (NUM + 1) × 2^SCALE pages of granule TG (1 = 4K) from ADDR, TTL the leaves' level
    /// (1..3, 0 = any); TG 0 = the one entry holding ADDR.
    /// </summary>
    public static (ulong, ulong) TlbiVa(int asid, ulong addr, int num, int scale, int tg, bool leaf, int ttl = 0) =>
        (TlbiNhVa | ((ulong)(num & 31) << NumShift) | ((ulong)(scale & 31) << ScaleShift) | ((ulong)(ushort)asid << AsidShift),
         (leaf ? Leaf : 0) | ((ulong)(ttl & 3) << TtlShift) | ((ulong)(tg & 3) << TgShift) | (addr & AddrMask));

    /// <summary>CMD_SYNC with an MSI write of <paramref name="data"/> to <paramref name="msiAddr"/> on completion (0 = no write).</summary>
    public static (ulong, ulong) Sync(ulong msiAddr, uint data) =>
        (CmdSync | (CsSev << CsShift) | ((ulong)data << 32), msiAddr & MsiAddrMask);
}

/// <summary>EVT_ID_* and the fields of a 32-byte event record.</summary>
public static class Smmuv3Event
{
    public const int Bytes = 32;
    public const byte BadStreamId = 0x02, SteFetch = 0x03, BadSte = 0x04, CdFetch = 0x09, BadCd = 0x0a, WalkEabt = 0x0b;
    public const byte Translation = 0x10, AddrSize = 0x11, Access = 0x12, Permission = 0x13;
    public const ulong RnW = 1UL << 35;    // word 1: 1 = read

    /// <summary>The DMA fault vocabulary's name for an event id.</summary>
    public static DmaFault FaultOf(byte id) => id switch
    {
        Translation => DmaFault.Translation,
        AddrSize => DmaFault.AddressSize,
        Access => DmaFault.Access,
        Permission => DmaFault.Permission,
        SteFetch or CdFetch or WalkEabt => DmaFault.ExternalAbort,
        _ => DmaFault.BadSte,
    };
}
