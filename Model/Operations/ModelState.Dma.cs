using System.Collections.Immutable;
using System.Numerics;
using IommuConformance.Contract;
using IommuConformance.Model.Rules;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>
/// The DMA API (<c>dma_map</c>, <c>dma_unmap</c>), the clock (<c>tick</c>) and fault injection (<c>fail_nth</c>), and
/// the DMA set-up every other operation may run (iommu_setup_dma_ops after a probe or a type change). The IOVA a
/// <c>dma_map</c> gets is the implementation's choice within the allowed set (<see cref="JudgeDma"/>); everything else
/// here is deterministic: which devices have iommu DMA ops, strict or lazy, when the flush queue flushes (docs/dma.md).
/// </summary>
public sealed partial class ModelState
{
    private const ulong Granule = 0x1000;
    private const ulong Dma32BitMask = 0xffff_ffffUL;
    private const int FqDefaultSize = 256, FqSingleSize = 32768;
    private const long FqDefaultTimeout = 10, FqSingleTimeout = 1000;

    /// <summary>The DMA API part of the state.</summary>
    public ModelDma Dma { get; private init; } = ModelDma.Empty;

    private ModelState WithDma(ModelDma dma) => With(dma: dma);

    /// <summary>Runs one operation; after the operations that set up DMA ops, the DMA set-up of the devices they touched.</summary>
    public ModelStep Step(Operation op) => StepFaulted(op, null);

    private ModelStep StepFaulted(Operation op, string? faultSite)
    {
        var step = StepCore(op);
        if (op is DmaMap or DmaUnmap or Tick or FailNth) return step;
        if (step.Next.RecordPagingAttached(this).RecordUnitTables(this) is var recorded && !ReferenceEquals(recorded, step.Next)) step = step with { Next = recorded };
        var next = step.Next.AfterCoreStep(this, op, step.Outcome, faultSite, out var extra, out var logger);
        // Nothing to set up is by far the common case: the same instance back, so no structural compare is needed.
        if (extra.Length == 0 && (ReferenceEquals(next, step.Next) || (ReferenceEquals(step.Next, this) && next.Dma.Equals(Dma))))
            return step;
        if (extra.Length == 0) return new(step.Outcome, next);
        // A bus probe sets up each device's DMA ops between the other devices' probes and groups' default domains: the
        // set-up's lines (one device logs them: the one that met the failure) go where that device's set-up comes.
        if (op is Contract.BusProbe bp && logger is not null && BusProbe(bp, logger, out var mark).Outcome.Warnings.Length >= mark && mark >= 0)
        {
            var core = step.Outcome.Warnings;
            return new(step.Outcome with { Warnings = [.. core.Take(mark), .. extra, .. core.Skip(mark)] }, next);
        }
        return new(step.Outcome.WithWarnings(extra), next);
    }

    // ---- DMA set-up after core operations ----

    /// <summary>
    /// Reconciles the DMA state with the groups after a core step from <paramref name="before"/>: a group gone or with
    /// a new default domain drops its DMA state; the devices that joined a group, or every member after a type change,
    /// run iommu_setup_dma_ops; a DMA → DMA-FQ flip brings up the flush queue in place.
    /// </summary>
    private ModelState AfterCoreStep(ModelState before, Operation op, Outcome outcome, string? faultSite, out string[] warnings, out string? logger)
    {
        warnings = [];
        logger = null;
        // No group changed and nothing to set up: the DMA state was reconciled after the step before, so it still is.
        if (ReferenceEquals(groups, before.groups) && op is not (Probe or Contract.BusProbe or GroupTypeWrite)) return this;
        var dma = Dma;
        var next = this;
        // The in-place DMA → DMA-FQ flip of a sysfs "DMA-FQ" write keeps the domain; any other type change is a new one.
        var flipped = op is GroupTypeWrite fw && outcome.Errno == Errno.OK && DefaultKindOf(fw.Type) == DefaultKind.DmaFq
            && before.GroupFor(fw.Dev) is { Default: DefaultKind.Dma } fg ? fg.Id : null;
        foreach (var id in dma.Groups.Keys)
            if (!groups.TryGetValue(id, out var g) || g.Default is not (DefaultKind.Dma or DefaultKind.DmaFq)
                || (before.groups.GetValueOrDefault(id)?.Default is { } was && was != g.Default && id != flipped))
                dma = dma with { Groups = dma.Groups.Remove(id) };
        foreach (var (dev, _) in dma.Devices)
            if (GroupFor(dev) is null) dma = dma with { Devices = dma.Devices.Remove(dev) };

        var setup = new List<string>();
        // A probe sets up the device it probed (only that one, even when it gave a left-over group its default domain);
        // a bus probe also every member of a group that got its default domain now (a deferred group is set up whole).
        // The order is the kernel's: devices joining a set-up group at their probe (topology order), then the queued groups
        // in the order their first device was probed, each in member order.
        if (op is Probe or Contract.BusProbe)
        {
            var queued = new List<GroupState>();
            foreach (var spec in machine.Topology.Devices)
            {
                if (GroupFor(spec.Name) is not { } g || before.GroupFor(spec.Name) is not null) continue;
                var fresh = op is Contract.BusProbe && g.Default is not null && before.groups.GetValueOrDefault(g.Id)?.Default is null;
                if (!fresh) setup.Add(spec.Name);
                else if (!queued.Any(q => q.Id == g.Id)) queued.Add(g);
            }
            // bus_iommu_probe returns at a group whose first attach failed: that group, the last to get a default domain,
            // sets up no DMA ops (the groups after it got none at all)
            if (op is Contract.BusProbe && outcome.Errno != Errno.OK && queued.Count > 0
                && outcome.Warnings.Contains(Warn.DefaultDomainFirstAttachFailed))
                queued.RemoveAt(queued.Count - 1);
            foreach (var g in queued) setup.AddRange(g.Members);
        }
        if (op is GroupTypeWrite w && outcome.Errno == Errno.OK && GroupFor(w.Dev) is { } tg)
        {
            var was = before.GroupFor(w.Dev)?.Default;
            if (tg.Id == flipped)
            {
                if (dma.Groups.TryGetValue(tg.Id, out var flip)) dma = dma with { Groups = dma.Groups.SetItem(tg.Id, StartFq(flip)) };
            }
            else setup.AddRange(tg.Members);   // every successful write re-runs iommu_setup_dma_ops, a no-op one too
        }
        var warns = new List<string>();
        foreach (var dev in setup)
        {
            var logged = warns.Count;
            (next, dma) = next.SetupDmaOps(dev, dma, ref faultSite, warns);
            if (warns.Count > logged) logger ??= dev;
        }
        warnings = [.. warns];
        return ReferenceEquals(next, this) && ReferenceEquals(dma, Dma) ? this : next.WithDma(dma);
    }

    // iommu_setup_dma_ops() for one device, then iommu_dma_init_domain() when its group's default is a DMA domain. The
    // fault site is met only at the device its line names (faultSite is its key, site@dev: docs/dma.md).
    private (ModelState, ModelDma) SetupDmaOps(string dev, ModelDma dma, ref string? faultSite, List<string> warns)
    {
        var met = faultSite is { } key && Warn.FaultSites.TryParse(Warn.FaultInjectionPrefix + key, out var metSite, out var metDev) && metDev == dev
            ? metSite : null;
        var g = GroupFor(dev)!;
        var spec = machine.Device(dev)!;
        var old = dma.Devices.GetValueOrDefault(dev);
        // Every set-up re-arms the 32-bit-first workaround of a PCI device (!iommu_dma_forcedac).
        var workaround = spec.Bus == BusNames.Pci || (old?.Workaround ?? false);
        var isDma = g.Default is DefaultKind.Dma or DefaultKind.DmaFq;
        var next = this;
        if (isDma)
        {
            var gd = dma.Groups.GetValueOrDefault(g.Id);
            if (gd is null)
            {
                gd = NewGroupDma(dma.NextGen);
                dma = dma with { NextGen = dma.NextGen + 1 };
            }
            if (!gd.Initialised)
            {
                var driver = DriverOf(g);
                if (met is Iova.Rcaches or Iova.CpuRcaches or Iova.Magazine)
                {
                    warns.Add(Warn.FaultInjectionPrefix + faultSite);
                    faultSite = null;
                    warns.Add(Warn.DmaSetupFailed);
                    isDma = false;   // the IOVA domain stays uninitialised: the next device retries
                }
                else
                {
                    var single = driver.Driver == DriverNames.Virtio;
                    gd = gd with
                    {
                        Initialised = true, SingleQueue = single, FqSize = single ? FqSingleSize : FqDefaultSize,
                        TimeoutMs = single ? FqSingleTimeout : FqDefaultTimeout,
                    };
                    // DMA-FQ without IOMMU_CAP_DEFERRED_FLUSH silently becomes DMA (DefaultDomainRules.AfterDmaOpsSetup).
                    if (g.Default == DefaultKind.DmaFq && DefaultDomainRules.AfterDmaOpsSetup(driver, DefaultKind.DmaFq) == DefaultKind.Dma)
                        next = next.WithGroup(g with { Default = DefaultKind.Dma });
                    else if (g.Default == DefaultKind.DmaFq)
                    {
                        if (met == Iova.Fq)
                        {
                            warns.Add(Warn.FaultInjectionPrefix + faultSite);
                            faultSite = null;
                            warns.Add(Warn.IovaFqInitFailed);
                            next = next.WithGroup(g with { Default = DefaultKind.Dma });
                        }
                        else gd = StartFq(gd);
                    }
                    var reserved = ReservedRegions(driver.Driver);
                    if (met == Iova.Node && reserved.Count > 0)
                    {
                        warns.Add(Warn.FaultInjectionPrefix + faultSite);
                        faultSite = null;
                        reserved = reserved.RemoveAt(0);   // reserve_iova()'s NULL is not checked
                    }
                    gd = gd with { Reserved = reserved };
                }
            }
            dma = dma with { Groups = dma.Groups.SetItem(g.Id, gd) };
        }
        dma = dma with { Devices = dma.Devices.SetItem(dev, new DevDma(isDma, workaround, true)) };
        return (next, dma);
    }

    private static GroupDma NewGroupDma(long gen) =>
        new(gen, false, false, false, FqDefaultSize, FqDefaultTimeout, [], DomainMappings.Empty, [[]], 0, 0, null, []);

    // iommu_dma_init_fq(): queues reset, counters zero, timer off.
    private GroupDma StartFq(GroupDma gd) => gd.Lazy ? gd : gd with
    {
        Lazy = true,
        Queues = [.. Enumerable.Range(0, gd.SingleQueue ? 1 : machine.Config.Cpus).Select(_ => ImmutableList<FqEntry>.Empty)],
        StartCnt = 0, FinishCnt = 0, TimerDue = null,
    };

    /// <summary>The reserved regions (first and last byte) of a driver's devices that the IOVA domain reserves (VT-d's MSI window).</summary>
    private static ImmutableList<(ulong, ulong)> ReservedRegions(string driver) =>
        driver == DriverNames.Vtd ? [(0xfee0_0000UL, 0xfeef_ffffUL)] : [];

    /// <summary>The fault-injection site names the model knows the effects of (the implementation's sites).</summary>
    private static class Iova
    {
        public const string Node = "iova", Magazine = "iova_magazine", Rcaches = "iova_rcaches", CpuRcaches = "iova_cpu_rcaches", Fq = "iova_fq";
    }

    // ---- operations ----

    /// <summary>
    /// <c>dma_map</c> — unknown device ENODEV, a CPU past config.cpus EINVAL, an <c>as</c> already bound EEXIST; size 0
    /// → DMA_MAPPING_ERROR with <see cref="Warn.DmaMapZeroSize"/>; a device without iommu DMA ops maps 1:1 (or fails
    /// beyond its mask). Otherwise the value is the implementation's choice: this step answers the lowest allowed IOVA,
    /// and <see cref="JudgeDma"/> admits any allowed one.
    /// </summary>
    private ModelStep DmaMapPage(DmaMap op)
    {
        if (machine.Device(op.Dev) is null) return Fail(Errno.ENODEV);
        if (op.Cpu >= (ulong)machine.Config.Cpus) return Fail(Errno.EINVAL);
        if (op.As is not null && Dma.Names.ContainsKey(op.As)) return Fail(Errno.EEXIST);
        if (op.Size == 0) return new(new Outcome(Errno.OK, OutcomeValues.Number(DmaArgs.MappingError), [Warn.DmaMapZeroSize]), this);
        var mask = DmaArgs.MaskOf(op.Mask);
        if (DmaTarget(op.Dev) is not var (g, gd))
        {
            var ok = op.Paddr + (op.Size - 1) >= op.Paddr && op.Paddr + (op.Size - 1) <= mask;
            if (!ok) return new(Outcome.OkWith(OutcomeValues.Number(DmaArgs.MappingError)), this);
            return new(Outcome.OkWith(OutcomeValues.Number(op.Paddr)), Adopt(op, null, op.Paddr, rollover: false));
        }
        if (op.Size > ulong.MaxValue - (op.Paddr & (Granule - 1)) - Granule) return new(Outcome.OkWith(OutcomeValues.Number(DmaArgs.MappingError)), this);
        var candidate = AllowedIovas(op, g, gd).Select(c => ((ulong Addr, bool Rollover)?)c).FirstOrDefault();
        // No slot at all: with the workaround armed, the failed 32-bit try has rolled the device over first.
        return candidate is { } c ? MapAt(op, g, gd, c.Addr, c.Rollover) : MapFailed(op, g, gd, rollover: WorkaroundApplies(op, g));
    }

    /// <summary>The group and DMA state a device's DMA API maps into, or null for dma-direct.</summary>
    private (GroupState, GroupDma)? DmaTarget(string dev) =>
        Dma.Devices.GetValueOrDefault(dev) is { DmaIommu: true } && GroupFor(dev) is { } g && Dma.Groups.GetValueOrDefault(g.Id) is { } gd ? (g, gd) : null;

    // The mapping at DMA address addr: the page-table map either succeeds (adopted) or fails (the IOVA freed at once).
    private ModelStep MapAt(DmaMap op, GroupState g, GroupDma gd, ulong addr, bool rollover)
    {
        var (off, len, _) = Geometry(op);
        var caps = DriverOf(g).Caps.Paging;
        ProtFlags.TryParse(DmaDirections.Prot(op.Dir), out var prot);
        var result = PageTableRules.Map(caps, gd.Mappings, addr - off, op.Paddr - off, len, prot);
        string[] warnings = [.. rollover ? [Warn.Dma32BitRollover] : Array.Empty<string>(), .. result.Warnings];
        if (result.Errno != Errno.OK) return MapFailed(op, g, gd, rollover, warnings);
        return new(new Outcome(Errno.OK, OutcomeValues.Number(addr), [.. warnings]), Adopt(op, (g, gd with { Mappings = result.Mappings }), addr, rollover));
    }

    private ModelStep MapFailed(DmaMap op, GroupState g, GroupDma gd, bool rollover, string[]? warnings = null)
    {
        var next = rollover ? WithDma(Dma with { Devices = Dma.Devices.SetItem(op.Dev, Dma.Devices[op.Dev] with { Workaround = false }) }) : this;
        warnings ??= rollover ? [Warn.Dma32BitRollover] : [];
        return new(new Outcome(Errno.OK, OutcomeValues.Number(DmaArgs.MappingError), [.. warnings]), next);
    }

    // The new mapping: name, dma-debug entry, live range (when through the IOMMU), rollover.
    private ModelState Adopt(DmaMap op, (GroupState G, GroupDma Gd)? target, ulong addr, bool rollover)
    {
        var dma = Dma;
        if (op.As is not null) dma = dma with { Names = dma.Names.SetItem(op.As, addr) };
        dma = dma with { Debug = dma.Debug.SetItem((op.Dev, addr), new DebugEntry(op.Size, op.Dir, target?.Gd.Gen ?? 0)) };
        if (target is var (g, gd))
        {
            var (off, len, alloc) = Geometry(op);
            gd = gd with { Live = gd.Live.Add(new DmaMapping(op.Dev, addr, addr - off, alloc, len)) };
            dma = dma with { Groups = dma.Groups.SetItem(g.Id, gd) };
            if (rollover) dma = dma with { Devices = dma.Devices.SetItem(op.Dev, dma.Devices[op.Dev] with { Workaround = false }) };
        }
        return WithDma(dma);
    }

    // iommu_dma_alloc_iova() tries below 4 GiB first: a PCI device with the workaround armed and a limit above it.
    private bool WorkaroundApplies(DmaMap op, GroupState g) =>
        Dma.Devices[op.Dev].Workaround && Math.Min(DmaArgs.MaskOf(op.Mask), DriverOf(g).Caps.Paging.ApertureLast) > Dma32BitMask;

    /// <summary>The offset into the first granule, the bytes mapped, and the bytes the IOVA allocation takes.</summary>
    private static (ulong Off, ulong Len, ulong Alloc) Geometry(DmaMap op)
    {
        var off = op.Paddr & (Granule - 1);
        var len = (op.Size + off + Granule - 1) & ~(Granule - 1);
        var pages = len / Granule;
        var alloc = pages < 32 ? BitOperations.RoundUpToPowerOf2(pages) : pages;
        return (off, len, alloc * Granule);
    }

    /// <summary>
    /// The allowed IOVAs of a <c>dma_map</c> (lowest first; the first few only are listed): aligned to the allocation's
    /// power of two, in [granule, limit], overlapping no live, queued or reserved range; below 4 GiB while the 32-bit
    /// workaround is armed for a limit above it, or anywhere with the rollover.
    /// </summary>
    private IEnumerable<(ulong Addr, bool Rollover)> AllowedIovas(DmaMap op, GroupState g, GroupDma gd)
    {
        var (off, _, alloc) = Geometry(op);
        var limit = Math.Min(DmaArgs.MaskOf(op.Mask), DriverOf(g).Caps.Paging.ApertureLast);
        var align = BitOperations.RoundUpToPowerOf2(alloc / Granule) * Granule;
        var workaround = Dma.Devices[op.Dev].Workaround && limit > Dma32BitMask;
        foreach (var iova in FreeSlots(gd, alloc, align, workaround ? Dma32BitMask : limit))
            yield return (iova + off, false);
        if (!workaround) yield break;
        foreach (var iova in FreeSlots(gd, alloc, align, limit))
            yield return (iova + off, true);
    }

    // Aligned slots of alloc bytes in [granule, limit] that meet no busy range, from the top (as the allocator searches).
    private static IEnumerable<ulong> FreeSlots(GroupDma gd, ulong alloc, ulong align, ulong limit)
    {
        if (limit < alloc) yield break;
        var busy = Busy(gd).OrderByDescending(b => b.Start).ToList();
        var top = (limit - alloc + 1) & ~(align - 1);
        var found = 0;
        for (var at = top; at >= Granule && found < 4;)
        {
            var hit = busy.FirstOrDefault(b => b.Start <= at + alloc - 1 && b.Last >= at);
            if (hit == default) { found++; yield return at; if (at < align) break; at -= align; continue; }
            if (hit.Start < alloc || hit.Start - alloc < Granule) break;
            at = (hit.Start - alloc) & ~(align - 1);
        }
    }

    /// <summary>Ranges no allocation may meet: live mappings' allocations, queued entries (freed or not by a flush), reservations.</summary>
    private static IEnumerable<(ulong Start, ulong Last)> Busy(GroupDma gd) =>
        gd.Live.Select(l => (l.Iova, l.Iova + l.Alloc - 1))
            .Concat(gd.Queues.SelectMany(q => q).Select(e => (e.Iova, e.Iova + e.Alloc - 1)))
            .Concat(gd.Reserved);

    /// <summary>Whether <paramref name="addr"/> is one of the allowed answers of <paramref name="op"/> (and with which rollover).</summary>
    private bool? Allowed(DmaMap op, GroupState g, GroupDma gd, ulong addr)
    {
        var (off, _, alloc) = Geometry(op);
        if (addr < off) return null;
        var iova = addr - off;
        var limit = Math.Min(DmaArgs.MaskOf(op.Mask), DriverOf(g).Caps.Paging.ApertureLast);
        var align = BitOperations.RoundUpToPowerOf2(alloc / Granule) * Granule;
        if ((addr & (Granule - 1)) != off || iova % align != 0 || iova < Granule || iova > limit || alloc - 1 > limit - iova) return null;
        if (Busy(gd).Any(b => b.Start <= iova + alloc - 1 && b.Last >= iova)) return null;
        var workaround = Dma.Devices[op.Dev].Workaround && limit > Dma32BitMask;
        return workaround && iova + alloc - 1 > Dma32BitMask;
    }

    /// <summary>
    /// <c>dma_unmap</c> — unknown device ENODEV, CPU past config.cpus EINVAL, an unbound name ENOENT; dma-debug refuses
    /// an address it has no mapping for (or another size or direction, or a domain gone since) with
    /// <see cref="Warn.DmaDebugBadUnmap"/>. Then strict: the range is unmapped and reusable at once; lazy: it is queued.
    /// </summary>
    private ModelStep DmaUnmapPage(DmaUnmap op) => DmaUnmapPage(op, null)!.Value;

    /// <summary>
    /// With <paramref name="unmapReqFault"/>, the fault line of virtio's UNMAP request: the step that meets it, or null
    /// when this unmap sends no request (nothing to unmap through the IOMMU, or a domain without endpoints). The unmap
    /// answers 0 bytes, so the range stays mapped while its IOVA is freed or queued as usual.
    /// </summary>
    private ModelStep? DmaUnmapPage(DmaUnmap op, string? unmapReqFault)
    {
        if (machine.Device(op.Dev) is null) return unmapReqFault is null ? Fail(Errno.ENODEV) : null;
        if (op.Cpu >= (ulong)machine.Config.Cpus) return unmapReqFault is null ? Fail(Errno.EINVAL) : null;
        ulong addr;
        if (op.IovaName is null) addr = op.Iova;
        else if (!Dma.Names.TryGetValue(op.IovaName, out addr)) return unmapReqFault is null ? Fail(Errno.ENOENT) : null;
        var target = DmaTarget(op.Dev);
        var gen = target?.Item2.Gen ?? 0;
        if (!Dma.Debug.TryGetValue((op.Dev, addr), out var entry) || entry.Size != op.Size || entry.Dir != op.Dir || entry.Gen != gen)
            return unmapReqFault is null ? new(new Outcome(Errno.OK, null, [Warn.DmaDebugBadUnmap]), this) : null;
        var dma = Dma with { Debug = Dma.Debug.Remove((op.Dev, addr)) };
        if (target is not var (g, gd)) return unmapReqFault is null ? Ok(WithDma(dma)) : null;
        var live = gd.Live.First(l => l.Addr == addr && l.Dev == op.Dev);
        var caps = DriverOf(g).Caps.Paging;
        var run = gd.Mappings.Find(live.Iova);
        var result = PageTableRules.Unmap(caps, gd.Mappings, live.Iova, live.Len);
        var warnings = result.Warnings.ToList();
        if (unmapReqFault is not null)
        {
            var sends = caps.Format == PageTableFormat.VirtioDevice && result.Bytes != 0
                        && MemberSpecs(g).Any(d => HardwareOf(g, d.Name).Domain == DomainRef.Default);
            if (!sends) return null;
            result = result with { Bytes = 0, Mappings = gd.Mappings };
            warnings = [unmapReqFault];
        }
        gd = gd with { Live = gd.Live.Remove(live), Mappings = result.Mappings };
        if (result.Bytes != live.Len) warnings.Add(Warn.DmaUnmapSize);
        if (gd.Lazy) gd = QueueIova(gd, new FqEntry(live.Iova, live.Alloc, live.Len, run?.Paddr + (live.Iova - run?.Iova) ?? 0, run?.Prot ?? 0, 0), (int)op.Cpu);
        return Ok(WithDma(dma with { Groups = dma.Groups.SetItem(g.Id, gd) }), warnings);
    }

    // queue_iova(): free what finished flushes cover; a full ring flushes now; append stamped with the start count; arm the timer.
    private GroupDma QueueIova(GroupDma gd, FqEntry entry, int cpu)
    {
        var q = gd.SingleQueue ? 0 : cpu;
        gd = RingFree(gd, q);
        if (gd.Queues[q].Count == gd.FqSize - 1) gd = RingFree(Flush(gd), q);
        gd = gd with { Queues = gd.Queues.SetItem(q, gd.Queues[q].Add(entry with { Counter = gd.StartCnt })) };
        return gd.TimerDue is null ? gd with { TimerDue = Dma.Now + gd.TimeoutMs } : gd;
    }

    private static GroupDma RingFree(GroupDma gd, int q) =>
        gd with { Queues = gd.Queues.SetItem(q, gd.Queues[q].SkipWhile(e => e.Counter < gd.FinishCnt).ToImmutableList()) };

    private static GroupDma Flush(GroupDma gd) => gd with { StartCnt = gd.StartCnt + 1, FinishCnt = gd.FinishCnt + 1 };

    /// <summary><c>tick {ms}</c> — every flush-queue timer due by then fires in time order: flush, then each queue frees what it covers.</summary>
    private ModelStep TickClock(Tick op)
    {
        if (op.Ms > long.MaxValue / 2 - (ulong)Dma.Now) return Fail(Errno.EINVAL);
        var target = Dma.Now + (long)op.Ms;
        var dma = Dma;
        while (dma.Groups.Values.Where(gd => gd.TimerDue is { } due && due <= target).OrderBy(gd => gd.TimerDue).ThenBy(gd => gd.Gen).FirstOrDefault() is { } gd)
        {
            var id = dma.Groups.First(kv => kv.Value.Gen == gd.Gen).Key;
            var fired = Flush(gd with { TimerDue = null });
            for (var q = 0; q < fired.Queues.Length; q++) fired = RingFree(fired, q);
            dma = dma with { Now = gd.TimerDue!.Value, Groups = dma.Groups.SetItem(id, fired) };
        }
        return Ok(WithDma(dma with { Now = target }));
    }

    /// <summary><c>fail_nth {n}</c> — a failure is pending; the operation that meets it shows it (<see cref="Warn.FaultInjectionPrefix"/>).</summary>
    private ModelStep FailNthArm(FailNth op) => Ok(WithDma(Dma with { FaultN = op.N }));

    /// <summary>The translation a queued, not yet flushed entry may still give through a stale IOTLB entry, or null.</summary>
    private ulong? StaleTranslation(string dev, ulong iova, ulong size, bool write) =>
        StaleEntry(dev, iova, size, write) is (true, var phys) ? phys : null;

    /// <summary>Whether a queued, unflushed entry covers the access, and the old address if it had the right (else a permission fault).</summary>
    private (bool Covered, ulong? Phys) StaleEntry(string dev, ulong iova, ulong size, bool write)
    {
        if (DmaTargetAnyDevice(dev) is not { } gd || !gd.Lazy) return (false, null);
        var writeReads = DriverOf(GroupFor(dev)!).Caps.Paging.WriteImpliesRead;
        foreach (var e in gd.Queues.SelectMany(q => q))
            if (e.Counter >= gd.FinishCnt && iova >= e.Iova && iova - e.Iova < e.Len && size - 1 <= e.Len - 1 - (iova - e.Iova))
            {
                var rights = writeReads && (e.Prot & ProtFlags.WriteBit) != 0 ? e.Prot | ProtFlags.ReadBit : e.Prot;
                return (true, (rights & (write ? ProtFlags.WriteBit : ProtFlags.ReadBit)) != 0 ? e.Paddr + (iova - e.Iova) : null);
            }
        return (false, null);
    }

    // The DMA state of the group a device is in, whatever its own DMA ops.
    private GroupDma? DmaTargetAnyDevice(string dev) => GroupFor(dev) is { } g ? Dma.Groups.GetValueOrDefault(g.Id) : null;

    /// <summary>The DMA API's page-table image of a group's default domain (empty when it maps nothing).</summary>
    private DomainMappings DefaultMappings(GroupState g) => Dma.Groups.GetValueOrDefault(g.Id)?.Mappings ?? DomainMappings.Empty;

}
