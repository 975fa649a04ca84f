using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model.Rules;

/// <summary>The answer of one map: the errno, the mappings after it, the warnings raised in order.</summary>
public readonly record struct MapResult(Errno Errno, DomainMappings Mappings, IReadOnlyList<string> Warnings);

/// <summary>The answer of one unmap: the bytes unmapped, the mappings after it, the warnings raised in order.</summary>
public readonly record struct UnmapResult(ulong Bytes, DomainMappings Mappings, IReadOnlyList<string> Warnings);

/// <summary>
/// iommu_map / iommu_unmap / iommu_iova_to_phys over one domain's mappings: the core's checks and loops
/// (drivers/iommu/iommu.c) with each format's map_pages / unmap_pages rules (<see cref="PageTableCaps"/>:
/// io-pgtable-arm, generic_pt VT-d second stage, the virtio-iommu device, the iommufd selftest mock), on leaves only.
/// Pure functions: a failed map answers the mappings it was given unless a format leaves something behind (Arm LPAE:
/// table entries created or replaced on the way).
/// </summary>
public static class PageTableRules
{
    // ---------------------------------------------------------------- map

    /// <summary>
    /// iommu_map: iova | paddr | size aligned to the smallest page, size not 0, no wrap-around → else EINVAL; then one
    /// map_pages call per best-page-size chunk, each with the format's checks; the first error stops the loop and
    /// what this map installed is unmapped again (iommu_unmap of the mapped part).
    /// </summary>
    public static MapResult Map(PageTableCaps caps, DomainMappings mappings, ulong iova, ulong paddr, ulong size, int prot) =>
        Map(caps, mappings, iova, paddr, size, prot, null);

    /// <summary>
    /// The same map meeting a failed table-page allocation (fail_nth at <c>iommu_pages</c>) after it made
    /// <paramref name="created"/> new tables: -ENOMEM with what __iommu_map's unwind leaves (Arm LPAE keeps the tables
    /// it made, but those the unwinding iommu_unmap frees). Null when the map never asks a
    /// (<paramref name="created"/> + 1)-th new table (it succeeds or fails otherwise first). Formats other than Arm LPAE
    /// leave the mappings given, as for any failed map.
    /// </summary>
    public static MapResult? MapFailingTable(PageTableCaps caps, DomainMappings mappings, ulong iova, ulong paddr, ulong size, int prot, int created)
    {
        var budget = new TableBudget(created);
        var result = Map(caps, mappings, iova, paddr, size, prot, budget);
        return budget.Hit ? result with { Warnings = [] } : null;
    }

    private static MapResult Map(PageTableCaps caps, DomainMappings mappings, ulong iova, ulong paddr, ulong size, int prot, TableBudget? budget)
    {
        var min = caps.MinPage;
        if (((iova | paddr | size) & (min - 1)) != 0 || size == 0) return new(Errno.EINVAL, mappings, []);
        if (iova + (size - 1) < iova || paddr + (size - 1) < paddr) return new(Errno.EINVAL, mappings, []);

        var warnings = new List<string>();
        var current = mappings;
        var installed = new List<(ulong Start, ulong End)>();
        var origIova = iova;
        var left = size;
        while (left != 0)
        {
            var pgsize = PageSizes.Best(caps.PgsizeBitmap, iova, paddr, left, out var count);
            var len = pgsize * count;
            var errno = MapPages(caps, ref current, iova, paddr, pgsize, count, prot, warnings, budget, out var partial);
            if (errno != Errno.OK)
            {
                if (caps.Format != PageTableFormat.ArmLpae)
                {
                    foreach (var (start, end) in installed) current = current.Remove(start, end);
                    return new(errno, mappings, warnings);
                }
                // "unroll mapping in case something went wrong": iommu_unmap of what the calls mapped, this one's
                // completed tables included; io-pgtable-arm keeps the tables it made but those the unmap frees
                var mapped = size - left + partial;
                if (mapped != 0) current = Unmap(caps, current, origIova, mapped).Mappings;
                return new(errno, current.Equals(mappings) ? mappings : current, warnings);
            }
            installed.Add((iova, iova + len));
            iova += len;
            paddr += len;
            left -= len;
        }
        return new(Errno.OK, current, warnings);
    }

    /// <summary>How many new table pages a map may still make before the failing one (fail_nth at iommu_pages).</summary>
    private sealed class TableBudget(int left)
    {
        public bool Hit { get; private set; }

        /// <summary>False (and hit) when the next new table is the one that fails.</summary>
        public bool Take()
        {
            if (left == 0) { Hit = true; return false; }
            left--;
            return true;
        }
    }

    private static Errno MapPages(PageTableCaps caps, ref DomainMappings m, ulong iova, ulong paddr, ulong pgsize, ulong count,
        int prot, List<string> warnings, TableBudget? budget, out ulong partial)
    {
        partial = 0;
        var len = pgsize * count;
        var last = iova + (len - 1);
        var noAccess = (prot & (ProtFlags.ReadBit | ProtFlags.WriteBit)) == 0;
        var outOfRange = iova < caps.ApertureStart || last > caps.ApertureLast || !Fits(paddr + (len - 1), caps.OutputBits);
        switch (caps.Format)
        {
            case PageTableFormat.ArmLpae:
                // arm_lpae_map_pages: the range (with a warning), then "no access" (the core refuses a call that maps nothing)
                if (outOfRange) return Warned(Errno.ERANGE, caps.RangeWarning, warnings);
                if (noAccess) return Warned(caps.NoAccessErrno, caps.NoAccessWarning, warnings);
                return ArmMap(caps, ref m, iova, paddr, pgsize, count, prot, warnings, budget, out partial);
            case PageTableFormat.VtdSecondStage:
                // pt map_pages: no access (with a warning), then the range; any leaf in the way → -EADDRINUSE
                if (noAccess) return Warned(caps.NoAccessErrno, caps.NoAccessWarning, warnings);
                if (outOfRange) return Warned(Errno.ERANGE, caps.RangeWarning, warnings);
                if (m.Overlapping(iova, iova + len).Any()) return Warned(caps.OvermapErrno, caps.OvermapWarning, warnings);
                m = m.Add(new Run(iova, len, paddr, prot, pgsize));
                return Errno.OK;
            case PageTableFormat.VirtioDevice:
                // viommu_map_pages sends one MAP for the whole run; the device keeps it as one mapping
                if (outOfRange) return Errno.ERANGE;
                if (m.Overlapping(iova, iova + len).Any()) return Warned(caps.OvermapErrno, caps.OvermapWarning, warnings);
                m = m.Add(new Run(iova, len, paddr, prot, len));
                return Errno.OK;
            default:
                // mock_domain_map_pages: every slot stored, an old one overwritten (one warning per call)
                if (outOfRange) return Errno.ERANGE;
                if (m.Overlapping(iova, iova + len).Any())
                {
                    if (caps.OvermapWarning is { } w) warnings.Add(w);
                    m = m.Remove(iova, iova + len);
                }
                m = m.Add(new Run(iova, len, paddr, prot, caps.MinPage, StartMark: true, LastMark: true));
                return Errno.OK;
        }
    }

    /// <summary>
    /// io-pgtable-arm, one table at a time (each map_pages call of __arm_lpae_map maps up to the end of the table its
    /// first leaf is in, and the core calls again for the rest): the descent makes the missing tables top-down; a
    /// leaf of this or a higher level in the way → -EEXIST with a warning, nothing of that table mapped; a table entry
    /// where the leaf goes is unmapped whole first (whatever it still maps). <paramref name="partial"/>: the bytes of
    /// the tables completed before an error (the core unwinds them).
    /// </summary>
    private static Errno ArmMap(PageTableCaps caps, ref DomainMappings m, ulong iova, ulong paddr, ulong pgsize, ulong count,
        int prot, List<string> warnings, TableBudget? budget, out ulong partial)
    {
        partial = 0;
        var span = ArmEntrySizes.Where(l => l > pgsize).DefaultIfEmpty(1UL << 48).Min();   // what one table of leaves covers
        // Nothing mapped in the range and page leaves: no table entry can sit where a page goes, and no leaf is in the way.
        var clear = Array.IndexOf(ArmEntrySizes, pgsize) < 0 && !m.Overlapping(iova, iova + pgsize * count).Any();
        var done = 0UL;
        while (done < count)
        {
            var at = iova + done * pgsize;
            var inTable = Math.Min(count - done, (span - (at & (span - 1))) / pgsize);
            foreach (var level in ArmEntrySizes)
            {
                if (level <= pgsize) break;
                var table = at & ~(level - 1);
                if (m.HasTable(table, level)) continue;
                if (!clear && m.Find(at) is { } block && block.Leaf >= level) break;   // a block in the way: EEXIST below
                if (budget is not null && !budget.Take()) return Partial(ref m, iova, paddr, pgsize, prot, done, out partial, Errno.ENOMEM);
                m = m.AddTable(table, level);
            }
            if (!clear)
                for (ulong i = 0; i < inTable; i++)
                {
                    var leafAt = at + i * pgsize;
                    foreach (var r in m.Overlapping(leafAt, leafAt + pgsize))
                        if (r.Leaf >= pgsize)
                            return Partial(ref m, iova, paddr, pgsize, prot, done, out partial, Warned(caps.OvermapErrno, caps.OvermapWarning, warnings));
                    if (m.HasTable(leafAt, pgsize))
                        m = m.Remove(leafAt, leafAt + pgsize).RemoveTables(leafAt, leafAt + pgsize, pgsize);
                }
            done += inTable;
        }
        m = m.Add(new Run(iova, pgsize * count, paddr, prot, pgsize));
        return Errno.OK;
    }

    // The leaves of the tables completed before an error stay mapped for the core to unwind.
    private static Errno Partial(ref DomainMappings m, ulong iova, ulong paddr, ulong pgsize, int prot, ulong done, out ulong partial, Errno errno)
    {
        partial = done * pgsize;
        if (done != 0) m = m.Add(new Run(iova, partial, paddr, prot, pgsize));
        return errno;
    }

    /// <summary>Entry sizes of the 4K-granule LPAE levels 0..2 (level 3 holds only pages).</summary>
    private static readonly ulong[] ArmEntrySizes = [1UL << 39, PageTableCaps.G1, PageTableCaps.M2];

    // ---------------------------------------------------------------- unmap

    /// <summary>
    /// iommu_unmap: 0 if iova | size is not aligned to the smallest page (or wraps); else unmap_pages calls of the
    /// best page size until the size is reached or a call answers 0 (a hole, a partial leaf, ...); the bytes each
    /// call answered are summed (a whole leaf removed may count more than was asked).
    /// </summary>
    public static UnmapResult Unmap(PageTableCaps caps, DomainMappings mappings, ulong iova, ulong size)
    {
        var min = caps.MinPage;
        if (((iova | size) & (min - 1)) != 0 || (size != 0 && iova + (size - 1) < iova)) return new(0, mappings, []);
        var warnings = new List<string>();
        var current = mappings;
        ulong unmapped = 0;
        while (unmapped < size)
        {
            var pgsize = PageSizes.Best(caps.PgsizeBitmap, iova, iova, size - unmapped, out var count);
            var bytes = UnmapPages(caps, ref current, iova, pgsize, count, warnings);
            if (bytes == 0) break;
            iova += bytes;
            unmapped += bytes;
        }
        return new(unmapped, unmapped == 0 && warnings.Count == 0 ? mappings : current, warnings);
    }

    private static ulong UnmapPages(PageTableCaps caps, ref DomainMappings m, ulong iova, ulong pgsize, ulong count, List<string> warnings)
    {
        var len = pgsize * count;
        var last = iova + (len - 1);
        switch (caps.Format)
        {
            case PageTableFormat.ArmLpae:
                return ArmUnmap(caps, ref m, iova, pgsize, count, warnings);
            case PageTableFormat.VtdSecondStage:
                return last > caps.ApertureLast ? 0 : VtdUnmap(ref m, iova, last);
            case PageTableFormat.VirtioDevice:
                // viommu_unmap_pages: the MAPs the range meets, in order; the first starting before iova → 0 (a split
                // the device refuses); each is removed whole and counted (one across the end too); fewer bytes than
                // asked → 0 and nothing removed (docs/operations.md: Linux drops them from its tree all the same)
                var hit = m.Overlapping(iova, iova + len).OrderBy(r => r.Iova).ToList();
                if (hit.Count == 0 || hit[0].Iova < iova) return 0;
                ulong removed = 0;
                foreach (var r in hit) removed += r.Size;
                if (removed < len) return 0;
                foreach (var r in hit) m = m.Remove(r.Iova, r.End);
                return removed;
            default:
                return MockUnmap(caps, ref m, iova, len, warnings);
        }
    }

    /// <summary>
    /// io-pgtable-arm __arm_lpae_unmap: down the levels above pgsize, an empty entry → 0 with a warning, a leaf (a
    /// block larger than pgsize) → 0 with the partial-unmap warning, no split; at pgsize's level up to the end of
    /// that table, each entry cleared (a table entry with everything under it), until an empty one (warning).
    /// </summary>
    private static ulong ArmUnmap(PageTableCaps caps, ref DomainMappings m, ulong iova, ulong pgsize, ulong count, List<string> warnings)
    {
        if (iova > caps.ApertureLast) return Warned(0UL, Warn.ArmLpaeUnmapRange, warnings);
        foreach (var level in ArmEntrySizes)
        {
            if (level <= pgsize) break;
            var entry = iova & ~(level - 1);
            if (m.Find(iova) is { } big && big.Leaf == level) return Warned(0UL, Warn.ArmLpaeUnmapPartialLarge, warnings);
            if (!m.HasTable(entry, level)) return Warned(0UL, caps.UnmapEmptyWarning, warnings);
        }
        var parent = ArmEntrySizes.Where(l => l > pgsize).DefaultIfEmpty(1UL << 48).Min();
        var inTable = (parent - (iova & (parent - 1))) / pgsize;
        var n = Math.Min(count, inTable);
        ulong i = 0;
        for (; i < n; i++)
        {
            var at = iova + i * pgsize;
            if (m.Find(at) is { } leaf && leaf.Leaf == pgsize) m = m.Remove(at, at + pgsize);
            else if (m.HasTable(at, pgsize)) m = m.Remove(at, at + pgsize).RemoveTables(at, at + pgsize, pgsize);
            else
            {
                if (caps.UnmapEmptyWarning is { } w) warnings.Add(w);
                break;
            }
        }
        return i * pgsize;
    }

    /// <summary>
    /// generic_pt unmap over [iova, last]: leaf after leaf from iova; a leaf that starts at the current address is
    /// removed whole (even past last) and counted; a start inside a leaf, or a hole, stops the walk.
    /// </summary>
    private static ulong VtdUnmap(ref DomainMappings m, ulong iova, ulong last)
    {
        ulong unmapped = 0;
        var cur = iova;
        while (cur <= last && m.Find(cur) is { } run)
        {
            var leafStart = run.Iova + ((cur - run.Iova) & ~(run.Leaf - 1));
            if (leafStart != cur) break;
            m = m.Remove(cur, cur + run.Leaf);
            unmapped += run.Leaf;
            if (cur + run.Leaf < cur) break;
            cur += run.Leaf;
        }
        return unmapped;
    }

    /// <summary>
    /// mock_domain_unmap_pages: every 2 KiB slot of the range erased and counted, mapped or not; warnings, in slot
    /// order, when a slot was empty (once per call), when the first slot is not a mapped START, when the last slot is
    /// not a mapped LAST.
    /// </summary>
    private static ulong MockUnmap(PageTableCaps caps, ref DomainMappings m, ulong iova, ulong len, List<string> warnings)
    {
        var end = iova + len;
        var hit = m.Overlapping(iova, end).ToList();
        ulong covered = 0;
        foreach (var r in hit) covered += Math.Min(r.End, end) - Math.Max(r.Iova, iova);
        // slot by slot as the selftest checks: an empty slot (once), the first slot a START, the last slot a LAST
        var slot = caps.MinPage;
        var first = m.Find(iova);
        var last = m.Find(end - slot);
        if (first is null) warnings.Add(Warn.MockUnmapEmpty);
        if (!(first is { StartMark: true } && first.Iova == iova)) warnings.Add(Warn.MockUnmapNotStart);
        if (first is not null && covered < len) warnings.Add(Warn.MockUnmapEmpty);
        if (!(last is { LastMark: true } && last.End == end)) warnings.Add(Warn.MockUnmapNotLast);
        if (hit.Count != 0) m = m.Remove(iova, end);
        return len;
    }

    // ---------------------------------------------------------------- iova_to_phys

    /// <summary>The physical address <paramref name="iova"/> maps to, or 0; the mock warns on an unmapped IOVA.</summary>
    public static ulong IovaToPhys(PageTableCaps caps, DomainMappings m, ulong iova, out string? warning)
    {
        warning = null;
        if (m.Find(iova) is { } run) return run.Paddr + (iova - run.Iova);
        if (caps.Format == PageTableFormat.MockSlots) warning = Warn.MockIovaToPhysUnmapped;
        return 0;
    }

    // ---------------------------------------------------------------- helpers

    private static bool Fits(ulong address, int bits) => bits >= 64 || address >> bits == 0;

    private static T Warned<T>(T result, string? warning, List<string> warnings)
    {
        if (warning is not null) warnings.Add(warning);
        return result;
    }
}
