namespace IommuConformance.Implementations.Hardware.Vtd;

/// <summary>
/// Scalable-mode structures (VT-d 4.x §9.4–9.6, intel-iommu.h / pasid.h): root entries with a lower and an upper
/// context-table pointer, 256-bit context entries pointing at a PASID directory, 8-byte directory entries and
/// 64-byte PASID-table entries. Both the driver (encoding) and the emulated unit (decoding) use these.
/// </summary>
public static class VtdSm
{
    public const ulong EcapSmts = 1UL << 43;           // ECAP.SMTS: scalable-mode translation supported
    public const ulong RtaddrTtmScalable = 1UL << 10;  // RTADDR.TTM [11:10] = 01: scalable mode
    public const ulong RtaddrTtmMask = 3UL << 10;

    /// <summary>Root entry: lo = LCTP (devfn 0x00–0x7F), hi = UCTP (devfn 0x80–0xFF); each P at bit 0.</summary>
    public const int RootBytes = 16;

    /// <summary>Context entry: 256 bits, 128 per 4 KiB table (devfn &amp; 0x7F).</summary>
    public const int ContextBytes = 32;
    public const int PdtsShift = 9;                    // lo PDTS [11:9]: the directory has 2^(PDTS + 7) entries
    public const ulong ContextDte = 1UL << 2, ContextPre = 1UL << 4;
    public const ulong RidPasidMask = (1UL << 20) - 1; // hi RID_PASID [83:64]

    /// <summary>context_entry_set_pasid_table + context_set_sm_rid2pasid: a present entry with the directory.</summary>
    public static (ulong Lo, ulong Hi) Context(ulong pasidDir, int pdts, uint ridPasid) =>
        (VtdEntry.P | ((ulong)(pdts & 7) << PdtsShift) | (pasidDir & VtdEntry.AddrMask), ridPasid & RidPasidMask);

    /// <summary>context_get_sm_pds: log2 of the directory entries needed for <paramref name="maxPasid"/> PASIDs, minus 7 (at least 0).</summary>
    public static int PdtsFor(uint maxPasid)
    {
        var maxPde = maxPasid >> PasidPdeShift;
        var pds = maxPde == 0 ? 0 : System.Numerics.BitOperations.TrailingZeroCount(maxPde);
        return pds < 7 ? 0 : pds - 7;
    }

    public static int DirEntries(ulong contextLo) => 1 << ((int)((contextLo >> PdtsShift) & 7) + 7);

    public const int PasidPdeShift = 6;                // PASID_PDE_SHIFT: directory index = pasid >> 6
    public const uint PasidPteMask = 0x3F;             // PASID_PTE_MASK: table index = pasid & 0x3F
    public const int DirEntryBytes = 8;
    public const int PasidEntryBytes = 64;
}

/// <summary>A scalable-mode PASID-table entry (pasid.h): eight 64-bit words, of which the unit reads the first three.</summary>
public readonly record struct VtdPasidEntry(ulong W0, ulong W1, ulong W2)
{
    public const ulong P = 1, Fpd = 2;
    public const int AwShift = 2, PgttShift = 6;
    public const int PgttFirstLevel = 1, PgttSecondLevel = 2, PgttNested = 3, PgttPassThrough = 4;
    public const int FlpmShift = 2;                    // W2 FLPM [131:130]: 0 = 4-level, 1 = 5-level
    public const ulong Sre = 1;                        // W2 SRE bit 128

    public bool Present => (W0 & P) != 0;
    public int Pgtt => (int)((W0 >> PgttShift) & 7);
    public int Aw => (int)((W0 >> AwShift) & 7);
    public ulong Slptptr => W0 & VtdEntry.AddrMask;
    public int Did => (int)(W1 & 0xFFFF);
    public ulong Flptptr => W2 & VtdEntry.AddrMask;
    public int Flpm => (int)((W2 >> FlpmShift) & 3);

    /// <summary>pasid_pte_config_second_level: SLPTPTR, AW, PGTT 2, DID, P.</summary>
    public static VtdPasidEntry SecondLevel(ulong slptptr, int aw, int did) =>
        new(P | (slptptr & VtdEntry.AddrMask) | ((ulong)(aw & 7) << AwShift) | ((ulong)PgttSecondLevel << PgttShift), (ushort)did, 0);

    /// <summary>pasid_pte_config_first_level: FLPTPTR, FLPM, PGTT 1, DID, AW, P.</summary>
    public static VtdPasidEntry FirstLevel(ulong flptptr, int flpm, int aw, int did) =>
        new(P | ((ulong)(aw & 7) << AwShift) | ((ulong)PgttFirstLevel << PgttShift), (ushort)did,
            (flptptr & VtdEntry.AddrMask) | ((ulong)(flpm & 3) << FlpmShift));

    /// <summary>pasid_pte_config_pass_through: PGTT 4, DID, AW, P.</summary>
    public static VtdPasidEntry PassThrough(int aw, int did) =>
        new(P | ((ulong)(aw & 7) << AwShift) | ((ulong)PgttPassThrough << PgttShift), (ushort)did, 0);
}

/// <summary>x86-64 paging-structure entry bits a first-level walk reads (SDM vol. 3 §4.5; VT-d first-stage translation).</summary>
public static class X86Pte
{
    public const ulong P = 1, Rw = 1UL << 1, Us = 1UL << 2, Ps = 1UL << 7, Xd = 1UL << 63;
    public const ulong AddrMask = ((1UL << 52) - 1) & ~0xFFFUL;
}
