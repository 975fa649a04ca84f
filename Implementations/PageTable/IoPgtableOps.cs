using IommuConformance.Contract;

namespace IommuConformance.Implementations.PageTable;

/// <summary>
/// struct io_pgtable_ops plus the hardware's view: one page-table format instance (one domain's table) written
/// into emulated memory. Software side: map_pages / unmap_pages / iova_to_phys / free. Hardware side:
/// <see cref="Walk"/>, which reads only memory, as the IOMMU would. Bad input answers an errno (or 0 bytes for
/// unmap) and changes nothing; warnings go to <see cref="Warnings"/>.
/// </summary>
public interface IIoPgtableOps
{
    /// <summary>Format name for messages ("arm-lpae-s1 4K ias48 oas48", "vtdss 48", ...).</summary>
    string Name { get; }

    /// <summary>Supported leaf sizes (iommu_domain.pgsize_bitmap).</summary>
    ulong PgsizeBitmap { get; }

    /// <summary>Input address bits: IOVAs are below 2^Ias (the mock format also has an aperture start).</summary>
    int Ias { get; }

    /// <summary>Output address bits.</summary>
    int Oas { get; }

    /// <summary>Physical address of the root table (TTBR / SSPTPTR / mock root), 0 for the virtio device's table.</summary>
    ulong RootPhys { get; }

    /// <summary>Table pages (4 KiB frames) this table holds now, root included.</summary>
    long TableFrames { get; }

    PgtableWarnings Warnings { get; }

    /// <summary>
    /// map_pages: installs <paramref name="pgcount"/> leaves of <paramref name="pgsize"/>. May map fewer than asked
    /// (up to the end of one table) and say so in <paramref name="mapped"/>; the caller loops (see
    /// <see cref="IommuMapping.Map"/>). Tables it replaces go to <paramref name="gather"/>, which the caller syncs.
    /// </summary>
    Errno MapPages(ulong iova, ulong paddr, ulong pgsize, ulong pgcount, IommuProt prot, IotlbGather gather, out ulong mapped);

    /// <summary>unmap_pages: bytes unmapped (0 when nothing could be), with the changed range and unlinked tables in <paramref name="gather"/>.</summary>
    ulong UnmapPages(ulong iova, ulong pgsize, ulong pgcount, IotlbGather gather);

    /// <summary>iova_to_phys: the output address, 0 when unmapped.</summary>
    ulong IovaToPhys(ulong iova);

    /// <summary>The hardware walk for an access (None = no permission check).</summary>
    WalkResult Walk(ulong iova, Hardware.IommuPerm access = Hardware.IommuPerm.None);

    /// <summary>free_io_pgtable_ops / domain teardown: frees every table page. Later calls fail harmlessly.</summary>
    void Free();

    /// <summary>
    /// The table pages a walk from <see cref="RootPhys"/> can reach, read from memory only, as the hardware would (for
    /// the structural checks): the root first, a page linked twice listed twice, an unbacked page listed but not
    /// descended. Empty after <see cref="Free"/> and for a table that lives in a device (virtio). Changes nothing.
    /// </summary>
    IReadOnlyList<ulong> ReachableTablePages();
}
