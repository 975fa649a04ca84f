using IommuConformance.Contract;

namespace IommuConformance.Implementations.PageTable;

/// <summary>The IOMMU_* prot bits of include/linux/iommu.h.</summary>
[Flags]
public enum IommuProt
{
    None = 0,
    Read = 1 << 0,    // IOMMU_READ
    Write = 1 << 1,   // IOMMU_WRITE
    Cache = 1 << 2,   // IOMMU_CACHE
    NoExec = 1 << 3,  // IOMMU_NOEXEC
    Mmio = 1 << 4,    // IOMMU_MMIO
    Priv = 1 << 5,    // IOMMU_PRIV
}

/// <summary>The trace spelling of prot (spec §4: <c>r w c n m p</c>).</summary>
public static class IommuProtNames
{
    /// <summary>Parses a prot string; an unknown or repeated letter is -EINVAL and <paramref name="prot"/> is None.</summary>
    public static Errno TryParse(string text, out IommuProt prot)
    {
        prot = IommuProt.None;
        var result = IommuProt.None;
        foreach (var c in text)
        {
            var bit = c switch
            {
                'r' => IommuProt.Read,
                'w' => IommuProt.Write,
                'c' => IommuProt.Cache,
                'n' => IommuProt.NoExec,
                'm' => IommuProt.Mmio,
                'p' => IommuProt.Priv,
                _ => IommuProt.None,
            };
            if (bit == IommuProt.None || (result & bit) != 0) return Errno.EINVAL;
            result |= bit;
        }
        prot = result;
        return Errno.OK;
    }

    public static string Format(IommuProt prot)
    {
        Span<char> s = stackalloc char[6];
        var n = 0;
        if ((prot & IommuProt.Read) != 0) s[n++] = 'r';
        if ((prot & IommuProt.Write) != 0) s[n++] = 'w';
        if ((prot & IommuProt.Cache) != 0) s[n++] = 'c';
        if ((prot & IommuProt.NoExec) != 0) s[n++] = 'n';
        if ((prot & IommuProt.Mmio) != 0) s[n++] = 'm';
        if ((prot & IommuProt.Priv) != 0) s[n++] = 'p';
        return new string(s[..n]);
    }
}
