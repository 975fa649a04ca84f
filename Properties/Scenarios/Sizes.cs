namespace IommuConformance.Properties.Scenarios;

internal static class Sizes
{
    public const ulong K4 = 1UL << 12, M1 = 1UL << 20, M2 = 1UL << 21, G1 = 1UL << 30, G4 = 1UL << 32;

    /// <summary>The page sizes of smmuv3 (LPAE S1 4K) and vtd (second stage), ascending.</summary>
    public static readonly ulong[] PageSizes = [K4, M2, G1];
}
