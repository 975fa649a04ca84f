using IommuConformance.Contract;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Model.State;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// Rules for the DMA API, the clock and fault injection (<c>dma_map</c>, <c>dma_unmap</c>, <c>tick</c>,
/// <c>fail_nth</c>), read off the model's DMA state: maps of 1–40 pages (a sub-page offset now and then, a 32-bit mask
/// now and then), unmaps of live mappings by name (rarely a bad one: another size, twice), ticks around the flush-queue
/// timeouts (10 ms, 1 s), <c>fail_nth</c> right before a probe or a map so that the failure meets DMA set-up or
/// allocation; now and then a map of size 0 or one larger than everything its mask reaches. A macro maps, DMAs, unmaps, DMAs again and maps the same size (the reuse-before-flush check). Weights are
/// moderate: in the default run they take about a tenth of the steps.
/// </summary>
public static class DmaRules
{
    public const double MapWeight = 0.8, UnmapWeight = 0.7, TickWeight = 0.4, FailWeight = 0.3, AcrossWeight = 0.3, RolloverWeight = 0.1, ReleaseWeight = 0.1;

    private static readonly string[] TypeWrites = [GroupTypeStrings.Dma, GroupTypeStrings.DmaFq, GroupTypeStrings.Auto];

    private static readonly long[] Ticks = [1, 5, 9, 10, 11, 100, 999, 1000, 1001];

    /// <summary>The rules; with <paramref name="memory"/> (the memory operations' rule set) a <c>fail_nth</c> may also precede a map.</summary>
    public static IEnumerable<Rule<IommuSession>> All(bool memory = false)
    {
        yield return Op(DmaMap.Entry.Name, MapWeight, s => s.Probed.Count > 0 ? 1 : 0.05, s => s.Emit(MapChoice(s, IommuArgs.Device(s))));
        yield return Op(DmaUnmap.Entry.Name, UnmapWeight, s => s.State.Dma.Debug.Count > 0 ? 1 : 0.02, s => s.Emit(UnmapChoice(s)));
        yield return Op(Tick.Entry.Name, TickWeight, s => s.State.Dma.Groups.Count > 0 ? 1 : 0.05, s => s.Emit(new Tick((ulong)s.Random.Pick(Ticks))));
        // n by what follows: a probe's allocations come in the kernel's order (dev_iommu, the driver's, the group, the group_device, the
        // default domain and its cookie, the rcaches, the magazines, the flush queue: docs/dma.md), a bus probe's after every
        // device's structures; a map takes at most three table pages, a user domain one struct; a dma_map's IOVA node first.
        yield return Op(FailNth.Entry.Name, FailWeight, s => 1, s =>
        {
            if (s.Fresh.Count > 0 && s.Random.Chance(0.65))
            {
                var d = s.Pick(s.Fresh);
                // a bus probe's first allocations are device structures, which hot probes meet too: its n starts later
                var bus = s.Random.Chance(0.4);
                // a hot probe's guess: its DMA set-up's first allocations (rcaches, per-CPU rcaches, a magazine)
                var n = !bus ? (s.Random.Chance(0.25) ? 1UL
                        : s.Random.Chance(0.3) ? ProbeSetupAsks(s, s.Spec(d)) + (ulong)s.Random.Between(1, 3) : (ulong)s.Random.Between(2, 10))
                    : s.Random.Chance(0.5) ? BusSetupAsks(s, s.Spec(d).Bus) + (ulong)s.Random.Between(1, 3) : (ulong)s.Random.Between(4, 16);
                s.Emit(new FailNth(n));
                s.Emit(bus ? new BusProbe(s.Spec(d).Bus) : new Probe(s.Devices[d]));
            }
            else if (memory && s.Live.Count > 0 && s.Random.Chance(0.3))
            {
                s.Emit(new FailNth(s.Random.Chance(0.6) ? 1UL : 2UL));
                s.Emit(MemoryRules.MapChoice(s));
            }
            else if (s.Probed.Count > 0 && s.Random.Chance(0.2))
            {
                s.Emit(new FailNth(1));
                s.Emit(new DomainAllocPaging(s.Devices[s.Pick(s.Probed)], IommuArgs.Instance.Binder(s, DomainAllocPaging.Entry.Args[1]).Text!));
            }
            else
            {
                var n = s.Random.Chance(0.6) ? 1 : (ulong)s.Random.Between(2, 8);
                // A deep n before a dma_map mostly meets nothing: four of those draws (5–8) go to the sysfs DMA → DMA-FQ flip,
                // whose one allocation is iommu_dma_init_fq's queues, with n = 1 (a group on DMA-FQ is made DMA first,
                // its new domain's allocations before the fail_nth). Taken from draws the rule already makes, so that
                // traces that do not take it keep their random stream (docs/generation.md).
                if (n >= 5 && s.Retypable.Count > 0) Flip(s);
                // virtio's UNMAP request, sent by an unmap of a domain with endpoints: n = 4 goes to iommu_unmap (with the
                // memory operations), a fifth of n = 1 to dma_unmap, so that both meet fail_nth 1
                else if (n == 4 && memory && s.Live.Count > 0 && HasVirtio(s))
                {
                    s.Emit(new FailNth(1));
                    s.Emit(MemoryRules.UnmapChoice(s));
                }
                else if (n == 1 && s.State.Dma.Debug.Count > 0 && HasVirtio(s) && s.Random.Chance(0.2))
                {
                    s.Emit(new FailNth(1));
                    s.Emit(UnmapChoice(s));
                }
                // n = 2–4 go to a PASID operation's allocations (the driver's PASID table and its leaves, a bind's structures)
                // where the machine has one to make (PasidRules.FaultedPasidSet emits its own fail_nth)
                else if (n is not (2 or 3 or 4) || !PasidRules.FaultedPasidSet(s))
                {
                    s.Emit(new FailNth(n));
                    s.Emit(MapChoice(s, IommuArgs.Device(s)));
                }
            }
        });

        // Reuse before flush: map A, DMA at it, unmap A (lazily queued on a DMA-FQ domain), map and unmap B of the same
        // size on the same CPU (its queue_iova frees what finished flushes cover), DMA at A again (the stale entry may
        // answer until the flush), map the same size again (never A's queued IOVA before its flush).
        yield return new Rule<IommuSession>("dma_across_unmap_lazy", AcrossWeight, s => s.Probed.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.Probed);
            var map = MapChoice(s, d);
            if (s.Emit(map) is not { } outcome || !OutcomeValues.TryNumber(outcome.Value, out var addr) || addr == DmaArgs.MappingError) return;
            var dma = new DeviceDma(map.Dev, addr & ~0xfffUL, (ulong)s.Random.Between(1, 64), map.Dir == DmaDirections.FromDevice);
            s.Emit(dma);
            s.Emit(new DmaUnmap(map.Dev, 0, map.As, map.Size, map.Dir, map.Cpu));
            if (s.Random.Chance(0.6))
            {
                var other = map with { As = s.Names.Fresh(DmaArgs.IovaSpace) };
                s.Emit(other);
                s.Emit(new DmaUnmap(map.Dev, 0, other.As, map.Size, map.Dir, map.Cpu));
            }
            s.Emit(dma);
            s.Emit(map with { As = s.Names.Fresh(DmaArgs.IovaSpace) });
        });

        // Teardown with the flush queue busy: map, unmap (queued, timer armed), release the device (the last one of its
        // group frees the domain and its flush queue), let the timer's time pass.
        yield return new Rule<IommuSession>("dma_release_with_queue", ReleaseWeight, s => s.Probed.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.Probed);
            var map = MapChoice(s, d);
            s.Emit(map);
            s.Emit(new DmaUnmap(map.Dev, 0, map.As, map.Size, map.Dir, map.Cpu));
            s.Emit(new Release(map.Dev));
            s.Emit(new Tick((ulong)s.Random.Pick(Ticks)));
        });

        // The rollover and its re-arm: an allocation failure meets the 32-bit try of a PCI device's map, then a type
        // change re-runs iommu_setup_dma_ops, then another map (below 4 GiB again).
        yield return new Rule<IommuSession>("dma_rollover_rearm", RolloverWeight, s => s.Probed.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.Probed);
            s.Emit(new FailNth(1));
            s.Emit(MapChoice(s, d));
            s.Emit(new GroupTypeWrite(s.Devices[d], s.Random.Pick(TypeWrites)));
            s.Emit(MapChoice(s, d));
        });
    }

    /// <summary><c>fail_nth 1</c> right before a sysfs DMA → DMA-FQ write of a group without users (made DMA first if it is not).</summary>
    private static void Flip(IommuSession s)
    {
        var d = s.PickWhere(s.Retypable, x => s.GroupOf(x)?.Default == DefaultKind.Dma);
        if (d < 0)
        {
            d = s.Pick(s.Retypable);
            s.Emit(new GroupTypeWrite(s.Devices[d], GroupTypeStrings.Dma));
        }
        s.Emit(new FailNth(1));
        s.Emit(new GroupTypeWrite(s.Devices[d], GroupTypeStrings.DmaFq));
    }

    /// <summary>
    /// The allocations a bus probe of <paramref name="bus"/> makes before its first queued group's DMA set-up, counted in
    /// the kernel's order (docs/dma.md): per device to probe, <c>dev_iommu</c>, the driver's probe_device structures, the
    /// group when it is new, the <c>group_device</c> (the mock refuses a PCI device after its <c>dev_iommu</c>); then that
    /// group's domain, its table's
    /// top level and the cookie.
    /// A guess that makes the next 1–3 (rcaches, per-CPU rcaches, a magazine) likely; a wrong one lands elsewhere.
    /// </summary>
    private static ulong BusSetupAsks(IommuSession s, string bus)
    {
        ulong asks = 0;
        var groups = new HashSet<(string?, string)>();
        string? first = null;
        foreach (var dev in s.Topology.Devices)
        {
            if (dev.Bus != bus || dev.Iommu is null || s.State.GroupOf(dev.Name) is not null) continue;
            first ??= dev.Iommu;
            asks += DeviceAsks(s, dev, groups);
        }
        return asks + DomainAsks(s, first);
    }

    /// <summary>
    /// Where a hot probe of <paramref name="dev"/> makes its instance's first present entry (a legacy VT-d unit's context
    /// table: docs/dma.md), the allocation that table is, counted as <see cref="ProbeSetupAsks"/> counts; else null.
    /// Asks nothing of the random stream.
    /// </summary>
    public static ulong? FirstEntryAsks(IommuSession s, DeviceSpec dev) =>
        dev.Iommu is { } unit && !s.State.HasUnitTable(unit) && s.State.GroupOf(dev.Name) is null
        && !s.Topology.Devices.Any(o => o.Iommu == unit && o.Group == dev.Group && s.State.GroupOf(o.Name) is not null)
            ? ProbeSetupAsks(s, dev) : null;

    /// <summary>
    /// The same for a hot probe of <paramref name="dev"/>: its structures, then, when its group is new, the group's
    /// domain, table top level and cookie. A device joining a group with a domain sets up at once (its IOVA domain
    /// is initialised unless the group's first set-up failed, when the rcaches come next).
    /// </summary>
    private static ulong ProbeSetupAsks(IommuSession s, DeviceSpec dev)
    {
        if (dev.Iommu is null) return 1;
        var groups = new HashSet<(string?, string)>();
        var asks = DeviceAsks(s, dev, groups);
        return groups.Count > 0 ? asks + DomainAsks(s, dev.Iommu) : asks;
    }

    // dev_iommu, the driver's probe_device structures, the group when it is new (recorded in groups), the group_device;
    // the mock refuses a PCI device after its dev_iommu
    private static ulong DeviceAsks(IommuSession s, DeviceSpec dev, HashSet<(string?, string)> groups)
    {
        var driver = s.Topology.FindIommu(dev.Iommu!)?.Driver;
        if (driver == DriverNames.Mock && dev.Bus == BusNames.Pci) return 1;
        var alias = s.Topology.Devices.Any(o => o.Iommu == dev.Iommu && o.Group == dev.Group && s.State.GroupOf(o.Name) is not null);
        var newGroup = !alias && groups.Add((dev.Iommu, dev.Group));
        var probeSites = (ulong)((s.Topology.FindIommu(dev.Iommu!) is { } spec ? DriverCapabilities.For(spec) : null)?.ProbeSites.Length ?? 0);
        return 1 + probeSites + (newGroup ? 1UL : 0) + 1;
    }

    // the domain, its table's top level (none when the driver's domains have no table: virtio-iommu), the first
    // member's attach_dev allocations (virtio's ATTACH request; smmuv3's CD table, a DMA default being paging; a legacy
    // VT-d unit's context table at its first entry), the cookie
    private static ulong DomainAsks(IommuSession s, string? instance)
    {
        var driver = instance is null ? null : s.Topology.FindIommu(instance)?.Driver;
        return 2UL + (Caps(driver)?.Paging.Format == PageTableFormat.VirtioDevice ? 0UL : 1UL)
            + (ulong)(Caps(driver)?.AttachSites.Length ?? 0) + (ulong)(Caps(driver)?.FirstPagingAttachSites.Length ?? 0)
            + (instance is not null && !s.State.HasUnitTable(instance) ? 1UL : 0UL);
    }

    private static bool HasVirtio(IommuSession s) => s.Topology.Iommus.Any(i => i.Driver == DriverNames.Virtio);

    private static DriverCapabilities? Caps(string? driver) => driver is null ? null : DriverCapabilities.For(driver);

    private static DmaMap MapChoice(IommuSession s, int device)
    {
        var pages = s.Random.Chance(0.8) ? (ulong)s.Random.Between(1, 8) : (ulong)s.Random.Between(9, 40);
        var paddr = (ulong)s.Random.Between(1, 0x8000) * 0x1000 + (s.Random.Chance(0.1) ? (ulong)s.Random.Between(1, 0xfff) : 0);
        var size = pages * 0x1000 - (s.Random.Chance(0.1) ? (ulong)s.Random.Between(1, 0xfff) : 0);
        var bad = s.Random.Chance(0.02);
        var map = new DmaMap(s.Devices[device], paddr, bad ? 0 : size, s.Random.Pick(DmaDirections.All),
            (ulong)s.Random.Below(s.Config.Cpus), s.Names.Fresh(DmaArgs.IovaSpace), s.Random.Chance(0.1) ? 32 : null);
        return bad && pages % 2 == 0 ? BeyondMask(map, pages) : map;
    }

    // Bad input: a mask too small for the map (all the 16–64 MiB its 24–26 bits reach, or more), which no IOVA fits:
    // DMA_MAPPING_ERROR, after searches that fail from the anchor (alloc_iova's overflow guard and retry paths). Half of
    // the bad-size draws, chosen from the page count already drawn so that the generator's random stream, and hence
    // every other trace, is unchanged.
    private static DmaMap BeyondMask(DmaMap map, ulong pages)
    {
        var bits = 24 + (int)(pages / 2 % 3);
        return map with { Size = (1UL << bits) + (pages % 4 == 0 ? 0 : pages * 0x1000), Mask = (ulong)bits };
    }

    private static DmaUnmap UnmapChoice(IommuSession s)
    {
        var dma = s.State.Dma;
        var cpu = (ulong)s.Random.Below(s.Config.Cpus);
        var named = dma.Names.Where(n => dma.Debug.Keys.Any(k => k.Addr == n.Value)).ToList();
        if (named.Count == 0 || s.Random.Chance(0.05))
            return new DmaUnmap(s.Devices[IommuArgs.Device(s)], (ulong)s.Random.Between(1, 0x10_0000) * 0x1000, null, 0x1000, DmaDirections.Bidirectional, cpu);
        var (name, addr) = s.Random.Pick(named);
        var (key, entry) = dma.Debug.First(e => e.Key.Addr == addr);
        var size = s.Random.Chance(0.05) ? entry.Size + 0x1000 : entry.Size;
        return new DmaUnmap(key.Dev, 0, name, size, entry.Dir, cpu);
    }

    private static Rule<IommuSession> Op(string name, double weight, Func<IommuSession, double> guard, Action<IommuSession> fire) =>
        new(name, weight, guard, fire) { Operation = name };
}
