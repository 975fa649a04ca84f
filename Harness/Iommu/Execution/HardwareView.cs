using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// What a system under test with emulated hardware shows the isolation and page-table checks, all read-only (no
/// counter moves, no fault is recorded). A system without it (the kernel back-end, test doubles) is not checked by them.
/// </summary>
public interface IHardwareView
{
    /// <summary>Every translation the device's hardware could produce now for one byte at <paramref name="iova"/>.</summary>
    IReadOnlyList<PossibleTranslation> PossibleTranslations(string dev, ulong iova, bool write);

    /// <summary>The same into <paramref name="found"/> (cleared first), so that a check reuses one list.</summary>
    void PossibleTranslations(string dev, ulong iova, bool write, List<PossibleTranslation> found)
    {
        found.Clear();
        found.AddRange(PossibleTranslations(dev, iova, write));
    }

    /// <summary>The live IOTLB entries of an instance.</summary>
    IReadOnlyList<IotlbEntry> LiveIotlbEntries(string instance);

    /// <summary>The tables the device's entry and cached config translate through (with their reachable pages if asked).</summary>
    IReadOnlyList<HardwareTable> HardwareTablesOf(string dev, bool withPages);

    /// <summary>A live paging domain's page table (root, reachable pages, frames it counts), or null.</summary>
    DomainTables? TablesOfDomain(int id);

    /// <summary>The order of the live allocator block at <paramref name="phys"/>, or -1 when free.</summary>
    int TableBlockOrder(ulong phys);

    /// <summary>Where a live domain's driver state and the hardware's copy of it disagree (virtio-iommu), or null.</summary>
    string? DriverHardwareDisagreement(int id) => null;

    /// <summary>Every translation a DMA tagged with <paramref name="pasid"/> could get now (none where PASIDs are not shown).</summary>
    IReadOnlyList<PossibleTranslation> PossiblePasidTranslations(string dev, uint pasid, ulong iova, bool write) => [];

    /// <summary>The PASIDs the device's hardware structures or caches hold an entry for.</summary>
    IReadOnlyCollection<uint> PasidsInUse(string dev) => [];
}

/// <summary>
/// What a system under test with the DMA layer shows the IOVA invariants (c.13–c.19): its DMA domains' IOVA state and
/// the teardown audit. A system without it is not checked by them.
/// </summary>
public interface IIovaView
{
    /// <summary>The ids of live domains with an initialised IOVA domain.</summary>
    IEnumerable<int> IovaDomainIds();

    /// <summary>A live DMA domain's IOVA state, or null when it has none.</summary>
    IovaDomainSnapshot? SnapshotIova(int domainId);

    /// <summary>Releases every device, frees every handle, and answers what did not come back (null: everything did).</summary>
    string? TearDownAndAudit();
}
