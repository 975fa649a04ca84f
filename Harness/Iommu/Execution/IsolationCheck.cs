using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Model.State;

namespace IommuConformance.Harness.Iommu.Execution;

/// <summary>
/// DMA isolation (spec hardware-and-peers §6, G1): every translation the hardware could produce for (device, IOVA) —
/// a fresh walk, a cached config, a live IOTLB entry (<see cref="IHardwareView.PossibleTranslations"/>) — reaches
/// exactly what the model says the device's current domain maps (<c>ModelState.DmaRouteOf</c>, the route <c>device_dma</c> answers through): the same physical
/// address, or a fault where the model faults (identity 1:1, blocking and nothing mapped fault; a write needs
/// <c>w</c>). Fault reasons are <c>device_dma</c>'s conformance, not isolation. Per step it probes only what the step
/// could have changed: the leaves a <c>map</c> / <c>unmap</c> touched (first and last byte, one byte either side) on the
/// devices on that domain; the devices the step moved (entry or model answer changed: their domain's leaves before
/// and after, and <see cref="Probes"/>); and the first and last byte of every live IOTLB entry of the instances of the
/// devices the step touched, on each device whose entry or cached config carries the entry's tag, unless verified for
/// that device already. A sweep probes every device and every entry (docs/harness.md).
/// A device the model tracks as lagging is held to what its hardware is on (<c>GroupState.Lagging</c>); only one on a
/// domain the kernel freed under it (<c>ModelState.DmaUndefined</c>, a use after free) is skipped: docs/operations.md,
/// "Lagging devices and DMA".
/// </summary>
public sealed class IsolationCheck : IStepCheck
{
    /// <summary>Leaves probed per run of mappings: every leaf of a run this long or shorter, else this many from its two ends.</summary>
    public const int LeavesPerRun = 16;

    /// <summary>Runs sampled per domain or range in a step (spread evenly over them); a sweep samples every run.</summary>
    public const int RunsPerStep = 32;

    /// <summary>Addresses every moved device is probed at besides its leaves (mostly unmapped; identity reaches them 1:1).</summary>
    public static readonly IReadOnlyList<ulong> Probes = [0, 0x1000, 0x100_0000, 0x4000_0000, 0x7FFF_F800, 0x1_0000_0000, 0xFFFF_FFFF_F000];

    private readonly IommuRun _run;
    private readonly IHardwareView? _hw;
    private readonly Dictionary<string, string> _instanceOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _devicesOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ulong>> _plan = new(StringComparer.Ordinal);
    private readonly HashSet<string> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<int, List<string>> _byTag = [];
    private readonly Dictionary<string, HwContext?> _contexts = new(StringComparer.Ordinal);
    private readonly List<Run> _runs = [];
    private readonly HashSet<(string Dev, IotlbEntry Entry)> _verified = [];
    private readonly List<(string Dev, IotlbEntry Entry)> _pending = [];
    private readonly List<PossibleTranslation> _found = new(3);
    private readonly Dictionary<string, List<DmaRoute>> _routes = new(StringComparer.Ordinal);
    private int _maxRuns = RunsPerStep;

    public IsolationCheck(IommuRun run)
    {
        _run = run;
        _hw = run.Implementation as IHardwareView;
        foreach (var d in run.Trace.Topology.Devices)
        {
            if (d.Iommu is not { } instance || !_instanceOf.TryAdd(d.Name, instance)) continue;
            if (!_devicesOf.TryGetValue(instance, out var list)) _devicesOf[instance] = list = [];
            list.Add(d.Name);
        }
    }

    public string Name => "isolation";

    /// <summary>Probes made by the last checked step (device, IOVA, access), for tests and benchmarks.</summary>
    public int LastProbes { get; private set; }

    public Problem? Check(StepContext step)
    {
        if (_hw is null || !step.Checked) return null;
        _plan.Clear();
        _instances.Clear();
        _pending.Clear();
        _routes.Clear();   // the model's state is fixed within one check: each device is resolved once
        _maxRuns = step.Sweep ? int.MaxValue : RunsPerStep;
        if (step.Sweep)
        {
            _verified.Clear();
            PlanAll();
        }
        else PlanStep(step.Op);
        PlanIotlb();
        var probes = 0;
        var check = step.Sweep && step.Mode == CheckMode.Incremental ? Name + " (sweep)" : Name;
        foreach (var (dev, iovas) in _plan)
        {
            if (_run.Context.IsLagging(dev) && _run.Model.State.DmaUndefined(dev)) continue;
            foreach (var iova in iovas)
            {
                probes += 2;
                if ((Compare(dev, iova, write: false) ?? Compare(dev, iova, write: true)) is { } message)
                {
                    LastProbes = probes;
                    return new Problem(ProblemKind.Invariant, check, message);
                }
            }
        }
        LastProbes = probes;
        _verified.UnionWith(_pending);
        return null;
    }

    /// <summary>
    /// A device the step touched has its instance's IOTLB probed (a DMA leaves entries); it has moved, and its domain is
    /// sampled, when its hardware entry changed since this check last saw it, or the model's answer for it changed.
    /// </summary>
    private void PlanStep(Operation op)
    {
        var model = _run.Model;
        foreach (var dev in _run.Scope.Devices)
        {
            if (!_instanceOf.TryGetValue(dev, out var instance)) continue;
            _instances.Add(instance);
            if (Moved(dev)) PlanDevice(dev, withBefore: true);
        }
        foreach (var dev in model.State.DevicesChangedSince(model.Before)) PlanDevice(dev, withBefore: true);
        switch (op)
        {
            case Map m: PlanRange(m.Domain, m.Iova, m.Size); break;
            case Unmap u: PlanRange(u.Domain, u.Iova, u.Size); break;
        }
    }

    // An IOTLB entry verified for a device stays right until the device moves or its domain's mappings change.
    private void Forget(string dev) => _verified.RemoveWhere(p => p.Dev == dev);

    private void ForgetTag(int tag) => _verified.RemoveWhere(p => p.Entry.Tag == tag);

    private void PlanAll()
    {
        foreach (var dev in _instanceOf.Keys)
        {
            Moved(dev);
            // with the domain it left at this step, as a step's plan has: a full run sweeps at every step, and a config
            // cached from the old domain shows on the old domain's leaves alone
            PlanDevice(dev, withBefore: true);
        }
    }

    /// <summary>Whether the device's entry differs from the one this check saw last (and remembers it).</summary>
    private bool Moved(string dev)
    {
        var now = _run.View.Device(dev)?.Context;
        if (_contexts.TryGetValue(dev, out var last) && last == now) return false;
        _contexts[dev] = now;
        return true;
    }

    /// <summary>A moved device: its domain's leaves (and those of the domain it left), <see cref="Probes"/>, its instance's IOTLB.</summary>
    private void PlanDevice(string dev, bool withBefore)
    {
        if (!_instanceOf.TryGetValue(dev, out var instance)) return;
        if (_verified.Count > 0) Forget(dev);
        var set = PlanOf(dev);
        foreach (var p in Probes) set.Add(p);
        var state = _run.Model.State;
        var handle = state.UserDomainOf(dev);
        if (handle is not null) AddLeaves(set, state.MappingsOf(handle), 0, ulong.MaxValue);
        if (withBefore && _run.Model.Before.UserDomainOf(dev) is { } old && old != handle)
            AddLeaves(set, _run.Model.Before.MappingsOf(old), 0, ulong.MaxValue);
        _instances.Add(instance);
    }

    /// <summary>A map or unmap: the leaves in the range before and after it, on every device the model or the hardware has on the domain.</summary>
    private void PlanRange(string handle, ulong iova, ulong size)
    {
        var end = iova + size < iova ? ulong.MaxValue : iova + size;
        var model = _run.Model;
        var devices = new HashSet<string>(model.State.DevicesOn(handle), StringComparer.Ordinal);
        foreach (var d in _run.View.Domains)
            if (d.Handle == handle)
            {
                devices.UnionWith(_run.View.UsersOf(d.Id));
                if (_verified.Count > 0) ForgetTag(d.Id);
            }
        foreach (var dev in devices)
        {
            if (!_instanceOf.TryGetValue(dev, out var instance)) continue;
            var set = PlanOf(dev);
            if (iova > 0) set.Add(iova - 1);
            set.Add(iova);
            if (end > iova) set.Add(end - 1);
            if (end < ulong.MaxValue) set.Add(end);
            AddLeaves(set, model.Before.MappingsOf(handle), iova, end);
            AddLeaves(set, model.State.MappingsOf(handle), iova, end);
            _instances.Add(instance);
        }
    }

    /// <summary>
    /// Every live IOTLB entry of the planned instances, on the devices whose entry or cached config carries its tag,
    /// unless already verified for that device since it last moved and its domain's mappings last changed (a sweep
    /// verifies every entry again).
    /// </summary>
    private void PlanIotlb()
    {
        foreach (var instance in _instances)
        {
            var entries = _hw!.LiveIotlbEntries(instance);
            if (entries.Count == 0) continue;
            _byTag.Clear();
            foreach (var dev in _devicesOf[instance])
                foreach (var table in _hw.HardwareTablesOf(dev, withPages: false))
                {
                    if (!_byTag.TryGetValue(table.Tag, out var list)) _byTag[table.Tag] = list = [];
                    if (!list.Contains(dev)) list.Add(dev);
                }
            foreach (var e in entries)
                if (_byTag.TryGetValue(e.Tag, out var devices))
                    foreach (var dev in devices)
                    {
                        if (_verified.Contains((dev, e))) continue;
                        _pending.Add((dev, e));
                        var set = PlanOf(dev);
                        set.Add(e.Iova);
                        set.Add(e.Iova + (e.Size - 1));
                    }
        }
    }

    private HashSet<ulong> PlanOf(string dev)
    {
        if (!_plan.TryGetValue(dev, out var set)) _plan[dev] = set = [];
        return set;
    }

    /// <summary>
    /// First and last byte of the leaves of <paramref name="mappings"/> inside [start, end) (<see cref="LeavesPerRun"/>
    /// per run, from at most <see cref="RunsPerStep"/> runs spread over them outside a sweep), and one byte either side of
    /// each run.
    /// </summary>
    private void AddLeaves(HashSet<ulong> set, DomainMappings mappings, ulong start, ulong end)
    {
        if (mappings.IsEmpty) return;
        _runs.Clear();
        _runs.AddRange(mappings.Overlapping(start, end));
        var take = Math.Min(_runs.Count, _maxRuns);
        for (var k = 0; k < take; k++)
        {
            var run = _runs[(int)((long)k * _runs.Count / take)];
            var leaf = run.Leaf == 0 ? run.Size : run.Leaf;
            var from = Math.Max(start, run.Iova);
            var to = Math.Min(end, run.End);
            var first = (from - run.Iova) / leaf;
            var last = (to - 1 - run.Iova) / leaf;
            for (var i = first; i <= last; i++)
            {
                if (last - first >= LeavesPerRun && i == first + LeavesPerRun / 2) i = last - LeavesPerRun / 2 + 1;
                var at = run.Iova + i * leaf;
                set.Add(at);
                set.Add(at + (leaf - 1));
            }
            if (run.Iova > 0) set.Add(run.Iova - 1);
            set.Add(run.End);
        }
    }

    /// <summary>
    /// The hardware's possible translations of (dev, iova) against the routes the model still allows for the device in
    /// this check (several while a failed map left a domain's tables untold, <c>ModelState.DmaRoutesOf</c>): the routes
    /// that disagree drop out, and a problem is named, against the first of them, when none is left.
    /// </summary>
    private string? Compare(string dev, ulong iova, bool write)
    {
        if (!_routes.TryGetValue(dev, out var routes)) _routes[dev] = routes = [.. _run.Model.State.DmaRoutesOf(dev)];
        _hw!.PossibleTranslations(dev, iova, write, _found);
        if (routes.Count == 1) return Mismatch(routes[0], dev, iova, write);
        var message = Mismatch(routes[0], dev, iova, write);
        var kept = 0;
        for (var i = 0; i < routes.Count; i++)
            if (Mismatch(routes[i], dev, iova, write) is null) routes[kept++] = routes[i];
        if (kept == 0) return message;
        routes.RemoveRange(kept, routes.Count - kept);
        return null;
    }

    private string? Mismatch(DmaRoute route, string dev, ulong iova, bool write)
    {
        var expected = route.Target(iova, write);
        foreach (var p in _found)
        {
            var t = p.Translation;
            if (expected is { } e ? t.IsOk && t.Phys == e : !t.IsOk) continue;
            // lazy unmap: the old page stays reachable through a cache (virtio: the device's copy) until the flush
            if (t.IsOk && _run.Model.State.StaleDmaTarget(dev, iova, write, p.Source == TranslationSource.FreshWalk) == t.Phys) continue;
            var model = expected is { } phys ? $"maps it to 0x{phys:x}" : "faults";
            var hardware = t.Fault is { } f ? $"faults ({Implementations.Hardware.DmaFaults.Name(f)})" : $"reaches 0x{t.Phys:x}";
            return $"isolation: a {(write ? "write" : "read")} by {dev} at 0x{iova:x}: the model's {DomainLabel(dev)} {model}, " +
                $"but the hardware's {SourceName(p.Source)} {hardware}";
        }
        return null;
    }

    private string DomainLabel(string dev)
    {
        var state = _run.Model.State;
        return state.CurrentDomain(dev) switch
        {
            DomainNames.Default => $"default domain ({state.GroupType(dev)})",
            DomainNames.Blocking => "blocking domain",
            DomainNames.None => "(no domain)",
            var name => $"domain {name}",
        };
    }

    private static string SourceName(TranslationSource source) => source switch
    {
        TranslationSource.FreshWalk => "fresh walk",
        TranslationSource.CachedConfig => "cached config",
        _ => "IOTLB entry",
    };
}
