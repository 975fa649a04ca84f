using IommuConformance.Harness.Core.Checking;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Model.State;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// DMA isolation per (device, PASID) (issue #8): every translation the hardware could produce for a DMA tagged with the
/// PASID — the fresh walk of its PASID structures (smmuv3: STE → CD table → CD[SSID] → TTB0; vtd: context → PASID
/// directory → PASID entry → table), a cached STE or CD / PASID entry, a live IOTLB or walk-cache entry
/// (<see cref="IHardwareView.PossiblePasidTranslations"/>) — reaches exactly what the model says that (device, PASID)'s
/// domain maps (<c>ModelState.DmaRouteOf</c> with the PASID: a paging domain's mappings, an SVA domain's mm's page table), or faults
/// where the model faults. Per step it probes the pairs the step could have changed: the PASIDs the model had or has on
/// the devices the implementation reported touched and the devices whose PASID entries or mm mappings moved in the
/// model, with the PASIDs their hardware holds an entry or cache for; a sweep probes every device's pairs. Addresses:
/// <see cref="IsolationCheck.Probes"/>, and the leaves of the pair's mappings before and after the step.
/// </summary>
public sealed class PasidIsolationCheck(IommuRun run) : IStepCheck
{
    /// <summary>Leaves probed from each end of a run, and runs sampled per pair.</summary>
    public const int LeavesPerEnd = 4, RunsPerPair = 16;

    private readonly IHardwareView? _hw = run.Implementation as IHardwareView;
    private readonly HashSet<string> _devices = [.. run.Trace.Topology.Devices.Where(d => d.Iommu is not null).Select(d => d.Name)];
    private readonly SortedSet<ulong> _at = [];
    private readonly SortedSet<ulong> _pasids = [];
    private readonly HashSet<string> _planned = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public string Name => "pasid isolation";

    /// <summary>(device, PASID) pairs probed by the last checked step, for tests.</summary>
    public int LastPairs { get; private set; }

    public Problem? Check(StepContext step)
    {
        LastPairs = 0;
        if (_hw is null || !step.Checked) return null;
        var model = run.Model;
        _planned.Clear();
        _order.Clear();
        if (step.Sweep) Plan(_devices);
        else
        {
            foreach (var dev in run.Scope.Devices)
                if (_devices.Contains(dev)) Plan(dev);
            foreach (var dev in model.State.PasidDevicesChangedSince(model.Before)) Plan(dev);
        }
        var check = step.Sweep && step.Mode == CheckMode.Incremental ? Name + " (sweep)" : Name;
        foreach (var dev in _order)
        {
            var pasids = _pasids;
            pasids.Clear();
            pasids.UnionWith(model.State.PasidEntriesOf(dev));
            pasids.UnionWith(model.Before.PasidEntriesOf(dev));
            foreach (var p in _hw.PasidsInUse(dev)) pasids.Add(p);
            foreach (var pasid in pasids)
            {
                LastPairs++;
                if (CheckPair(dev, pasid) is { } message) return new Problem(ProblemKind.Invariant, check, message);
            }
        }
        return null;
    }

    private void Plan(IEnumerable<string> devices)
    {
        foreach (var dev in devices) Plan(dev);
    }

    private void Plan(string dev)
    {
        if (_planned.Add(dev)) _order.Add(dev);
    }

    private string? CheckPair(string dev, ulong pasid)
    {
        _at.Clear();
        foreach (var p in IsolationCheck.Probes) _at.Add(p);
        AddLeaves(run.Model.State.PasidMappingsOf(dev, pasid));
        AddLeaves(run.Model.Before.PasidMappingsOf(dev, pasid));
        // every route the model still allows (a failed map may leave a domain's tables untold): the first that agrees at
        // every probe passes; else the problem is named against the model's own route
        var routes = run.Model.State.DmaRoutesOf(dev, pasid);
        string? first = null;
        foreach (var route in routes)
        {
            var message = Probe(route, dev, pasid);
            if (message is null) return null;
            first ??= message;
        }
        return first;
    }

    private string? Probe(DmaRoute route, string dev, ulong pasid)
    {
        foreach (var iova in _at)
            if ((Compare(route, dev, pasid, iova, write: false) ?? Compare(route, dev, pasid, iova, write: true)) is { } message) return message;
        return null;
    }

    // First and last byte of the first and last leaves of each sampled run, and one byte either side of the run.
    private void AddLeaves(DomainMappings mappings)
    {
        if (mappings.IsEmpty) return;
        var runs = mappings.Runs;
        var take = Math.Min(runs.Count, RunsPerPair);
        for (var k = 0; k < take; k++)
        {
            var r = runs[(int)((long)k * runs.Count / take)];
            var leaf = r.Leaf == 0 ? r.Size : r.Leaf;
            var leaves = r.Size / leaf;
            for (var i = 0UL; i < leaves; i++)
            {
                if (leaves > 2 * LeavesPerEnd && i == LeavesPerEnd) i = leaves - LeavesPerEnd;
                _at.Add(r.Iova + i * leaf);
                _at.Add(r.Iova + i * leaf + (leaf - 1));
            }
            if (r.Iova > 0) _at.Add(r.Iova - 1);
            _at.Add(r.End);
        }
    }

    private string? Compare(DmaRoute route, string dev, ulong pasid, ulong iova, bool write)
    {
        var expected = route.Target(iova, write);
        foreach (var p in _hw!.PossiblePasidTranslations(dev, (uint)pasid, iova, write))
        {
            var t = p.Translation;
            if (expected is { } e ? t.IsOk && t.Phys == e : !t.IsOk) continue;
            var model = expected is { } phys ? $"maps it to 0x{phys:x}" : "faults";
            var hardware = t.Fault is { } f ? $"faults ({DmaFaults.Name(f)})" : $"reaches 0x{t.Phys:x}";
            return $"pasid isolation: a {(write ? "write" : "read")} by {dev} with PASID {pasid} at 0x{iova:x}: the model {model}, " +
                $"but the hardware's {p.Source switch { TranslationSource.FreshWalk => "fresh walk", TranslationSource.CachedConfig => "cached config", TranslationSource.WalkCache => "walk cache", _ => "IOTLB entry" }} {hardware}";
        }
        return null;
    }
}
