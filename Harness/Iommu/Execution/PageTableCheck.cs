using IommuConformance.Harness.Core.Checking;
using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// The page-table structure (spec hardware-and-peers §6, G3 and G4), read from memory through
/// <see cref="IHardwareView"/>: no table page is reachable from two roots (or linked twice under one); no reachable
/// table page is free in the frame allocator; a live domain's table counts the frames its root reaches; a table page
/// that leaves a domain's table (an unmap, a block over a table, the domain's free) is freed by the end of the step —
/// so a freed domain's pages are back to the allocator; every table a device's entry or cached config translates
/// through is a live domain's root, under that domain's tag; where the hardware keeps its own copy of a domain
/// (virtio-iommu), the driver's state and the copy agree. Per step it reads the domains the implementation reports
/// as touched and the devices in the step's scope; a sweep reads every domain and device. It remembers each domain's
/// pages from the last time it read them, so it must see every step (checked or not). A lagging device on a domain the
/// kernel freed under it (<c>ModelState.DmaUndefined</c>, c.9's waiver) may stay on that table and is not held to the
/// last rule; every other lagging device is.
/// </summary>
public sealed class PageTableCheck(IommuRun run) : IStepCheck
{
    private readonly IHardwareView? _hw = run.Implementation as IHardwareView;
    private readonly Dictionary<int, DomainTables> _tables = [];
    private readonly Dictionary<ulong, int> _owner = [];
    private readonly Dictionary<ulong, int> _rootOf = [];
    private readonly List<int> _domains = [];
    private readonly List<(int Domain, ulong Page, bool Freed)> _left = [];
    private readonly HashSet<ulong> _seen = [];

    public string Name => "page tables";

    public Problem? Check(StepContext step)
    {
        if (_hw is null) return null;
        _domains.Clear();
        if (step.Sweep)
        {
            foreach (var d in run.View.Domains) _domains.Add(d.Id);
            foreach (var id in _tables.Keys) if (run.View.Domain(id) is null) _domains.Add(id);
        }
        else _domains.AddRange(run.Implementation.Touched.Domains);
        var problem = Domains(step.Checked);
        if (problem is null && step.Checked)
            problem = Devices(step.Sweep ? run.View.DeviceNames : run.Scope.Devices);
        var check = step.Sweep && step.Mode == CheckMode.Incremental ? Name + " (sweep)" : Name;
        return problem is null ? null : new Problem(ProblemKind.Invariant, check, "page tables: " + problem);
    }

    /// <summary>Re-reads the domains, updates what it remembers, and reports the first problem (when checked).</summary>
    private string? Domains(bool report)
    {
        string? problem = null;
        _left.Clear();
        foreach (var id in _domains)
        {
            var now = _hw!.TablesOfDomain(id);
            var old = _tables.GetValueOrDefault(id);
            if (old is not null)
            {
                foreach (var page in old.Pages)
                    if (_owner.GetValueOrDefault(page, -1) == id) _owner.Remove(page);
                _rootOf.Remove(old.Root);
            }
            if (now is null)
            {
                _tables.Remove(id);
                if (old is not null) foreach (var page in old.Pages) _left.Add((id, page, true));
                continue;
            }
            _tables[id] = now;
            _rootOf[now.Root] = id;
            if (old is not null)
            {
                _seen.Clear();
                _seen.UnionWith(now.Pages);
                foreach (var page in old.Pages) if (!_seen.Contains(page)) _left.Add((id, page, false));
            }
            problem ??= Pages(now);
            problem ??= _hw!.DriverHardwareDisagreement(id);
        }
        // A page that left a table must be free now, or belong to a table that took it in the same step.
        foreach (var (id, page, freed) in _left)
            if (problem is null && _hw!.TableBlockOrder(page) >= 0 && !_owner.ContainsKey(page))
                problem = freed
                    ? $"domain #{id} was freed, but its table page 0x{page:x} is still allocated (not back to baseline)"
                    : $"table page 0x{page:x} left domain #{id}'s table but was never freed (a leak)";
        return report ? problem : null;
    }

    /// <summary>One live table: every page allocated, owned by no other root, linked once; frames as counted.</summary>
    private string? Pages(DomainTables t)
    {
        string? problem = null;
        long frames = 0;
        _seen.Clear();
        foreach (var page in t.Pages)
        {
            if (!_seen.Add(page))
            {
                problem ??= $"table page 0x{page:x} is linked twice in domain #{t.DomainId}'s table";
                continue;
            }
            var order = _hw!.TableBlockOrder(page);
            if (order < 0) problem ??= $"table page 0x{page:x}, reachable from domain #{t.DomainId}'s root 0x{t.Root:x}, is free in the frame allocator";
            else frames += 1L << order;
            if (_owner.TryGetValue(page, out var other) && other != t.DomainId && StillHolds(other, page))
                problem ??= $"table page 0x{page:x} is reachable from the roots of domain #{other} and domain #{t.DomainId}";
            _owner[page] = t.DomainId;
        }
        if (problem is null && frames != t.CountedFrames)
            problem = $"domain #{t.DomainId}'s table counts {t.CountedFrames} frame(s), but its root 0x{t.Root:x} reaches {frames}";
        return problem;
    }

    // The other domain was not re-read this step: confirm from memory that it still reaches the page.
    private bool StillHolds(int domain, ulong page) => _hw!.TablesOfDomain(domain) is { } t && t.Pages.Contains(page);

    /// <summary>Every table a device's hardware translates through is a live domain's root, under that domain's tag.</summary>
    private string? Devices(IEnumerable<string> devices)
    {
        foreach (var dev in devices)
        {
            if (run.Context.IsLagging(dev) && run.Model.State.DmaUndefined(dev)) continue;
            foreach (var table in _hw!.HardwareTablesOf(dev, withPages: false))
            {
                var source = table.Source == Implementations.Hardware.TranslationSource.FreshWalk ? "entry" : "cached config";
                if (!_rootOf.TryGetValue(table.Root, out var id))
                    return $"the {source} of {dev} translates through table 0x{table.Root:x}, which is no live domain's root";
                if (id != table.Tag)
                    return $"the {source} of {dev} walks domain #{id}'s table under tag #{table.Tag}";
            }
        }
        return null;
    }
}
