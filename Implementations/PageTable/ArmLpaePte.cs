namespace IommuConformance.Implementations.PageTable;

/// <summary>The LPAE descriptor bits io-pgtable-arm writes (VMSAv8-64 long descriptors).</summary>
internal static class ArmLpaePte
{
    public const ulong TypeMask = 3;
    public const ulong TypeBlock = 1;      // ARM_LPAE_PTE_TYPE_BLOCK (levels 1-2)
    public const ulong TypeTable = 3;      // ARM_LPAE_PTE_TYPE_TABLE (levels 0-2)
    public const ulong TypePage = 3;       // ARM_LPAE_PTE_TYPE_PAGE (level 3)
    public const ulong Valid = 1;
    public const ulong Af = 1UL << 10;
    public const ulong ShOs = 2UL << 8;
    public const ulong ShIs = 3UL << 8;
    public const ulong Xn = 3UL << 53;
    public const ulong Ng = 1UL << 11;
    public const ulong ApUnpriv = 1UL << 6; // stage 1 AP[1]
    public const ulong ApRdonly = 1UL << 7; // stage 1 AP[2]
    public const int AttrIndxShift = 2;
    public const ulong MairIdxCache = 1, MairIdxDev = 2;
    public const ulong HapRead = 1UL << 6;  // stage 2 S2AP[0]
    public const ulong HapWrite = 1UL << 7; // stage 2 S2AP[1]
    public const ulong MemattrOiwb = 0xFUL << 2, MemattrNc = 0x5UL << 2, MemattrDev = 0x1UL << 2;
    public const ulong AddrMask = (1UL << 48) - 1;

    // arm_lpae_prot_to_pte
    public static ulong ProtToPte(ArmLpaeStage stage, IommuProt prot)
    {
        ulong pte;
        if (stage == ArmLpaeStage.Stage1)
        {
            pte = Ng;
            if ((prot & IommuProt.Write) == 0 && (prot & IommuProt.Read) != 0) pte |= ApRdonly;
            if ((prot & IommuProt.Priv) == 0) pte |= ApUnpriv;
            if ((prot & IommuProt.Mmio) != 0) pte |= MairIdxDev << AttrIndxShift;
            else if ((prot & IommuProt.Cache) != 0) pte |= MairIdxCache << AttrIndxShift;
        }
        else
        {
            pte = 0;
            if ((prot & IommuProt.Read) != 0) pte |= HapRead;
            if ((prot & IommuProt.Write) != 0) pte |= HapWrite;
            pte |= (prot & IommuProt.Mmio) != 0 ? MemattrDev : (prot & IommuProt.Cache) != 0 ? MemattrOiwb : MemattrNc;
        }
        pte |= (prot & IommuProt.Cache) != 0 ? ShIs : ShOs;
        if ((prot & IommuProt.NoExec) != 0) pte |= Xn;
        return pte | Af;
    }

    // iopte_leaf
    public static bool IsLeaf(ulong pte, int lvl) => lvl == 3 ? (pte & TypeMask) == TypePage : (pte & TypeMask) == TypeBlock;

    public static bool IsTable(ulong pte, int lvl) => lvl < 3 && (pte & TypeMask) == TypeTable;
}
