using IommuConformance.Contract;

namespace IommuConformance.Implementations.PageTable;

public enum ArmLpaeStage { Stage1, Stage2 }

/// <summary>
/// io_pgtable_cfg for ARM_64_LPAE_S1 / _S2: granule (4K, 16K or 64K), input and output address sizes (32..48),
/// and whether a stage-2 table may start one level lower with concatenated tables (arm_64_lpae_alloc_pgtable_s2).
/// </summary>
public sealed record ArmLpaeConfig(ArmLpaeStage Stage, ulong Granule, int Ias, int Oas, bool ConcatenateStage2 = true)
{
    public static readonly int[] SelftestAddressSizes = [32, 36, 40, 42, 44, 48];
    public static readonly ulong[] Granules = [4096, 16384, 65536];

    /// <summary>arm_lpae_restrict_pgsizes: the leaf sizes of a granule.</summary>
    public static ulong PgsizesOf(ulong granule) => granule switch
    {
        4096 => (1UL << 12) | (1UL << 21) | (1UL << 30),
        16384 => (1UL << 14) | (1UL << 25),
        65536 => (1UL << 16) | (1UL << 29),
        _ => 0,
    };

    public Errno Validate() =>
        PgsizesOf(Granule) == 0 || Ias is < 16 or > 48 || Oas is < 16 or > 48 ? Errno.EINVAL : Errno.OK;

    public override string ToString() =>
        $"arm-lpae-{(Stage == ArmLpaeStage.Stage1 ? "s1" : "s2")} {Granule / 1024}K ias{Ias} oas{Oas}";
}
