namespace IommuConformance.Contract;

/// <summary>The page-table format behind a driver's paging domains: it decides the overmap and unmap rules.</summary>
public enum PageTableFormat
{
    /// <summary>io-pgtable-arm LPAE stage 1, 4K granule (smmuv3).</summary>
    ArmLpae,

    /// <summary>The VT-d second stage as generic_pt writes it (vtd, since v6.19).</summary>
    VtdSecondStage,

    /// <summary>virtio-iommu: the device keeps each MAP request as one mapping (no table in memory).</summary>
    VirtioDevice,

    /// <summary>The iommufd selftest mock: one 2 KiB slot per page with START/LAST markers.</summary>
    MockSlots,
}

/// <summary>
/// What <c>unmap</c> does with a range that covers only part of a mapping (a larger leaf, or a virtio MAP), per
/// format (spec §2 driver table).
/// </summary>
public enum PartialUnmapRule
{
    /// <summary>io-pgtable-arm since 2024: nothing is split; the call answers 0 with <see cref="Warn.ArmLpaeUnmapPartialLarge"/>.</summary>
    ZeroWithWarning,

    /// <summary>generic_pt: an unmap that starts at a large leaf removes the whole leaf and counts its size; one starting inside a leaf stops there.</summary>
    WholeLeaf,

    /// <summary>
    /// virtio (viommu_unmap_pages over a spec-strict device): a MAP straddling the start → 0, nothing removed; else the
    /// MAPs from iova on are removed whole and counted (one across the end too), or, covering less than asked, 0 and
    /// nothing removed.
    /// </summary>
    Strict,

    /// <summary>The mock: every slot of the range is erased, the answer is always the requested size; warnings say what was odd.</summary>
    Requested,
}

/// <summary>
/// The page-table half of a driver's row of the spec §2 table, as data for the model: the page sizes, the input
/// aperture, the output size, the caches, and the rules for overmaps and partial unmaps with their warnings.
/// </summary>
/// <param name="Format">The format (and so the unmap walk) of the driver's paging domains.</param>
/// <param name="PgsizeBitmap">domain->pgsize_bitmap: the leaf sizes; the smallest is the alignment unit of iommu_map.</param>
/// <param name="ApertureStart">The first IOVA a map may use.</param>
/// <param name="ApertureLast">The last IOVA a map may use (2^IAS − 1).</param>
/// <param name="OutputBits">Physical addresses must be below 2^OutputBits (the OAS).</param>
/// <param name="RangeWarning">The warning a map past the aperture or the OAS raises with its -ERANGE, if any.</param>
/// <param name="OvermapErrno">A map over an existing leaf of equal or larger size (or any overlap, virtio): this errno; OK = overwritten.</param>
/// <param name="OvermapWarning">The warning of an overmap, if any.</param>
/// <param name="PartialUnmap">The partial-unmap rule.</param>
/// <param name="UnmapEmptyWarning">The warning of an unmap_pages call that reaches an empty entry (smmuv3), if any.</param>
/// <param name="NoAccessErrno">A map whose prot has neither r nor w: this errno (OK: mapped without rights).</param>
/// <param name="NoAccessWarning">The warning of such a map, if any.</param>
/// <param name="IotlbEntries">IOTLB size (0: no IOTLB).</param>
/// <param name="Pasid">PASID support.</param>
/// <param name="WriteImpliesRead">A leaf mapped with w but without r is readable all the same: LPAE stage 1 has only
/// read-only and read-write AP encodings (io-pgtable-arm arm_lpae_prot_to_pte sets AP_RDONLY only for r without w).</param>
public sealed record PageTableCaps(
    PageTableFormat Format,
    ulong PgsizeBitmap,
    ulong ApertureStart,
    ulong ApertureLast,
    int OutputBits,
    string? RangeWarning,
    Errno OvermapErrno,
    string? OvermapWarning,
    PartialUnmapRule PartialUnmap,
    string? UnmapEmptyWarning,
    Errno NoAccessErrno,
    string? NoAccessWarning,
    int IotlbEntries,
    bool Pasid,
    bool WriteImpliesRead = false)
{
    public const ulong K4 = 1UL << 12, M2 = 1UL << 21, G1 = 1UL << 30, K2 = 1UL << 11;

    /// <summary>The smallest page size: iova, paddr and size of a map must be multiples of it.</summary>
    public ulong MinPage => PgsizeBitmap & (~PgsizeBitmap + 1);

    /// <summary>smmuv3: LPAE S1 4K/2M/1G, 48-bit IAS and OAS, IOTLB 256; overmap -EEXIST and partial unmap 0, each with a warning.</summary>
    public static readonly PageTableCaps Smmuv3 = new(PageTableFormat.ArmLpae, K4 | M2 | G1, 0, (1UL << 48) - 1, 48,
        RangeWarning: Warn.ArmLpaeMapRange, OvermapErrno: Errno.EEXIST, OvermapWarning: Warn.ArmLpaeMapExists,
        PartialUnmap: PartialUnmapRule.ZeroWithWarning, UnmapEmptyWarning: Warn.ArmLpaeUnmapEmpty,
        NoAccessErrno: Errno.EINVAL, NoAccessWarning: null, IotlbEntries: 256, Pasid: true, WriteImpliesRead: true);

    /// <summary>vtd: second stage 4K/2M/1G, 48-bit input, 52-bit output, IOTLB 1024; overmap -EADDRINUSE without a warning; whole-leaf unmap.</summary>
    public static readonly PageTableCaps Vtd = new(PageTableFormat.VtdSecondStage, K4 | M2 | G1, 0, (1UL << 48) - 1, 52,
        RangeWarning: null, OvermapErrno: Errno.EADDRINUSE, OvermapWarning: null,
        PartialUnmap: PartialUnmapRule.WholeLeaf, UnmapEmptyWarning: null,
        NoAccessErrno: Errno.EINVAL, NoAccessWarning: Warn.PtMapNoAccess, IotlbEntries: 1024, Pasid: true);

    /// <summary>virtio: 4K only, 48-bit input range, no IOTLB, no PASID; an overlapping MAP is INVAL (-EINVAL); spec-strict UNMAP.</summary>
    public static readonly PageTableCaps Virtio = new(PageTableFormat.VirtioDevice, K4, 0, (1UL << 48) - 1, 64,
        RangeWarning: null, OvermapErrno: Errno.EINVAL, OvermapWarning: null,
        PartialUnmap: PartialUnmapRule.Strict, UnmapEmptyWarning: null,
        NoAccessErrno: Errno.OK, NoAccessWarning: null, IotlbEntries: 0, Pasid: false);

    /// <summary>mock: 2 KiB pages, aperture [16 MiB, 2 GiB − 1], 52-bit output; an overmap overwrites with a warning; unmap answers what was asked.</summary>
    public static readonly PageTableCaps Mock = new(PageTableFormat.MockSlots, K2, 1UL << 24, (1UL << 31) - 1, 52,
        RangeWarning: null, OvermapErrno: Errno.OK, OvermapWarning: Warn.MockMapOverwrite,
        PartialUnmap: PartialUnmapRule.Requested, UnmapEmptyWarning: null,
        NoAccessErrno: Errno.OK, NoAccessWarning: null, IotlbEntries: 0, Pasid: true);
}
