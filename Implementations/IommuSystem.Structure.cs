using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations;

/// <summary>
/// One live paging domain's page table as the structural checks read it: its root, the table pages a walk from the
/// root reaches in memory (<see cref="PageTable.IIoPgtableOps.ReachableTablePages"/>), and the frames the table
/// itself counts as linked.
/// </summary>
public sealed record DomainTables(int DomainId, ulong Root, IReadOnlyList<ulong> Pages, long CountedFrames);

/// <summary>Read-only views of page-table memory for the structural checks (kernel-semantics G3/G4).</summary>
public sealed partial class IommuSystem
{
    /// <summary>The page table of a live paging domain, or null (no such domain, not a paging domain, or freed).</summary>
    public DomainTables? TablesOfDomain(int id) =>
        PagingDomain(id) is { Freed: false } d ? new DomainTables(id, d.Pgtable.RootPhys, d.Pgtable.ReachableTablePages(), d.Pgtable.TableFrames) : null;

    /// <summary>The order of the live allocator block at <paramref name="phys"/> (frames = 2^order), or -1 when it is free.</summary>
    public int TableBlockOrder(ulong phys) => _platform.Allocator.OrderOf(phys);
}
