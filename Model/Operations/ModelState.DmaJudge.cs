using System.Numerics;
using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>
/// Where the DMA API leaves the contract a choice: the IOVA of a <c>dma_map</c> (any allowed one, adopted), a DMA to a
/// queued, unflushed IOVA (the old page through a stale IOTLB entry, or the fault), and the operation that meets a
/// pending <c>fail_nth</c> (its documented failure, named by the site in the fault-injection line).
/// </summary>
public sealed partial class ModelState
{
    /// <summary>The judgement of a DMA-API choice, or null when <see cref="Judge"/>'s one-outcome rule applies.</summary>
    private ModelJudgement? JudgeDma(Operation op, Outcome observed, ModelStep? known = null)
    {
        string? fault = null;
        foreach (var w in observed.Warnings)
            if (w.StartsWith(Warn.FaultInjectionPrefix, StringComparison.Ordinal)) { fault = w; break; }
        if (fault is not null)
        {
            var cleared = WithDma(Dma with { FaultN = 0 });
            if (!Dma.FaultPending || !Warn.FaultSites.TryParse(fault, out var site, out var dev)) return Refused(known ?? Step(op));
            if (JudgeCoreFault(op, observed, fault, cleared) is { } core) return core;
            switch (op)
            {
                // the flip: iommu_dma_init_fq from the sysfs store, no device's set-up
                case GroupTypeWrite w when site == Iova.Fq && dev is null && GroupFor(w.Dev) is { Default: DefaultKind.Dma }
                                           && DefaultKindOf(w.Type) == DefaultKind.DmaFq:
                    var refused = new Outcome(Errno.ENOMEM, null, [fault, Warn.IovaFqInitFailed]);
                    return new(refused.Equals(observed), refused, cleared);
                // a device's DMA set-up: the line names the device (SetupDmaOps meets it there only)
                case Probe or Contract.BusProbe or GroupTypeWrite when dev is not null:
                    var step = cleared.StepFaulted(op, Warn.FaultSites.Key(site, dev));
                    return new(step.Outcome.Equals(observed), step.Outcome, step.Next);
                // The 32-bit try of a PCI device (alloc_iova_fast without flush_rcache, so no retry; alloc_iova takes its node
                // before it searches) met the node's failure: the device rolls over, and the full-range try (which retries)
                // answers, a failed map included. (A 32-bit try that found no room rolls over first, and a failure at the
                // full-range try's node comes after the notice: the rule below.)
                case DmaMap m when dev is null && site == Iova.Node && m.Size != 0 && machine.Device(m.Dev) is not null
                                   && m.Cpu < (ulong)machine.Config.Cpus && (m.As is null || !Dma.Names.ContainsKey(m.As))
                                   && DmaTarget(m.Dev) is var (g, _) && WorkaroundApplies(m, g)
                                   && observed.Warnings.Length >= 2 && observed.Warnings[0] == fault && observed.Warnings[1] == Warn.Dma32BitRollover:
                {
                    var rolled = cleared.WithDma(cleared.Dma with
                    {
                        Devices = cleared.Dma.Devices.SetItem(m.Dev, cleared.Dma.Devices[m.Dev] with { Workaround = false }),
                    });
                    var afterRollover = observed with { Warnings = [.. observed.Warnings.Skip(2)] };
                    var full = rolled.JudgeDma(op, afterRollover) ?? rolled.JudgeOne(op, afterRollover);
                    var rolledOver = full.Expected with { Warnings = [fault, Warn.Dma32BitRollover, .. full.Expected.Warnings] };
                    return new(full.Allowed && rolledOver.Equals(observed), rolledOver, full.Next);
                }
                case DmaMap or DmaUnmap or Tick when dev is null && site is Iova.Node or Iova.Magazine:
                    var rest = observed with { Warnings = observed.Warnings.Remove(fault) };
                    var inner = cleared.JudgeDma(op, rest) ?? cleared.JudgeOne(op, rest);
                    // the allocation that failed comes before anything the operation logs after it (the rollover notice)
                    return inner with { Expected = inner.Expected with { Warnings = [fault, .. inner.Expected.Warnings] } };
                default:
                    return Refused(known ?? Step(op));
            }
        }
        switch (op)
        {
            case DmaMap m when m.Size != 0 && machine.Device(m.Dev) is not null && m.Cpu < (ulong)machine.Config.Cpus
                               && (m.As is null || !Dma.Names.ContainsKey(m.As)) && DmaTarget(m.Dev) is var (g, gd):
            {
                var expected = known ?? Step(op);
                if (!OutcomeValues.TryNumber(observed.Value, out var addr) || addr == DmaArgs.MappingError || observed.Errno != Errno.OK)
                {
                    if (expected.Outcome.Equals(observed) || addr != DmaArgs.MappingError) return new(expected.Outcome.Equals(observed), expected.Outcome, expected.Next);
                    return RefusedOverLeftover(m, g, gd, observed) is { } refused ? new(true, refused.Outcome, refused.Next)
                        : new(false, expected.Outcome, expected.Next);
                }
                // the model's own choice: its step maps there (MapAt at the first allowed IOVA)
                if (expected.Outcome.Equals(observed)) return new(true, expected.Outcome, expected.Next);
                if (Allowed(m, g, gd, addr) is not { } rollover) return new(false, expected.Outcome, expected.Next);
                var chosen = MapAt(m, g, gd, addr, rollover);
                return new(chosen.Outcome.Equals(observed), chosen.Outcome, chosen.Next);
            }
            case DeviceDma d when d.Pasid is null && StaleOutcomes(d) is { } possible:
            {
                var expected = known ?? Step(op);
                return new(expected.Outcome.Equals(observed) || possible.Contains(observed), expected.Outcome, expected.Next);
            }
        }
        return null;
    }

    /// <summary>
    /// A <c>dma_map</c> refused at an allowed IOVA that meets a range its domain still maps though no mapping owns it (a
    /// virtio UNMAP request that failed under <c>dma_unmap</c> freed the IOVA and kept the range): the map fails there
    /// and the IOVA is freed at once, so DMA_MAPPING_ERROR is an allowed answer. The step of the first such IOVA that
    /// gives <paramref name="observed"/>, or null.
    /// </summary>
    private ModelStep? RefusedOverLeftover(DmaMap m, GroupState g, GroupDma gd, Outcome observed)
    {
        var (_, _, alloc) = Geometry(m);
        var off = m.Paddr & (Granule - 1);
        var align = BitOperations.RoundUpToPowerOf2(alloc / Granule) * Granule;
        foreach (var run in gd.Mappings.Runs)
        {
            if (gd.Live.Any(l => l.Iova <= run.Iova && run.Iova - l.Iova < l.Alloc)) continue;
            // the aligned slots meeting the run: the one holding its first byte (align >= alloc), then each after it
            for (var (at, tries) = (run.Iova & ~(align - 1), 0); at <= run.End - 1 && tries < 64; at += align, tries++)
            {
                if (Allowed(m, g, gd, at + off) is not { } rollover) continue;
                var step = MapAt(m, g, gd, at + off, rollover);
                if (step.Outcome.Equals(observed)) return step;
                if (at > ulong.MaxValue - align) break;
            }
        }
        return null;
    }

    private static ModelJudgement Refused(ModelStep own) => new(false, own.Outcome, own.Next);

    private ModelJudgement JudgeOne(Operation op, Outcome observed)
    {
        var step = Step(op);
        return new(step.Outcome.Equals(observed), step.Outcome, step.Next);
    }

    private static DefaultKind? DefaultKindOf(string sysfs) => sysfs.TrimEnd('\n') switch
    {
        GroupTypeStrings.DmaFq => DefaultKind.DmaFq,
        _ => null,
    };

    /// <summary>
    /// The address a DMA by <paramref name="dev"/> at <paramref name="iova"/> may still reach through a stale IOTLB entry
    /// of a lazily unmapped, not yet flushed range of its group's DMA domain (only while the group is on that domain),
    /// or null.
    /// </summary>
    /// <remarks>
    /// With <paramref name="freshWalk"/> (a walk of the tables rather than a cache entry) only on virtio, whose device
    /// keeps its own copy of the mappings until the queued UNMAP requests are waited for (viommu_flush_iotlb_all);
    /// io-pgtable formats clear the entry at the unmap, so a walk never reaches the old page.
    /// </remarks>
    public ulong? StaleDmaTarget(string dev, ulong iova, bool write, bool freshWalk = false) =>
        freshWalk && !(GroupFor(dev) is { } g && DriverOf(g).Caps.Paging.Format == PageTableFormat.VirtioDevice)
            ? null : StaleDmaTarget(dev, iova, 1, write);

    /// <summary>
    /// The answers a DMA may get when part of it is still covered by a stale IOTLB entry (a lazily unmapped, unflushed
    /// range of its group's DMA domain): such a part answers through the entry (its old page, or a permission fault
    /// when the entry lacks the right) or through the tables (a queued IOVA is not handed out again before its flush,
    /// so they fault); every other part through the tables. The first part that faults gives the answer, else the
    /// first byte's address. Null when no part is covered (the one-outcome rule applies).
    /// </summary>
    private HashSet<Outcome>? StaleOutcomes(DeviceDma d)
    {
        if (d.Size == 0 || d.Iova + (d.Size - 1) < d.Iova) return null;
        if (GroupFor(d.Dev) is not { Current.Role: DomainRole.Default } g || g.Lagging.ContainsKey(d.Dev)) return null;
        if (DmaTargetAnyDevice(d.Dev) is not { Lazy: true } gd) return null;
        var last = d.Iova + (d.Size - 1);
        // the cut points: where a live queued entry the DMA meets starts or ends
        var cuts = new SortedSet<ulong> { d.Iova };
        foreach (var e in gd.Queues.SelectMany(q => q))
            if (e.Counter >= gd.FinishCnt && e.Iova <= last && d.Iova <= e.Iova + (e.Len - 1))
            {
                if (e.Iova > d.Iova) cuts.Add(e.Iova);
                if (e.Iova + e.Len - 1 < last) cuts.Add(e.Iova + e.Len);
            }
        if (cuts.Count == 1 && !StaleCovered(d).Item1) return null;
        var parts = cuts.ToList();
        var possible = new HashSet<Outcome>();
        var covered = false;
        ulong? firstLive = null, firstStale = null;
        for (var i = 0; i < parts.Count; i++)
        {
            var start = parts[i];
            var part = d with { Iova = start, Size = (i + 1 < parts.Count ? parts[i + 1] - 1 : last) - start + 1 };
            var live = Step(part).Outcome;
            var (stale, phys) = StaleCovered(part);
            covered |= stale;
            var canPass = false;
            if (live.Errno == Errno.OK)
            {
                canPass = true;
                if (i == 0 && OutcomeValues.TryField(live.Value, out _, out var v) && OutcomeValues.TryNumber(v, out var p)) firstLive = p;
            }
            else possible.Add(live);
            if (stale)
            {
                if (phys is { } old) { canPass = true; if (i == 0) firstStale = old; }
                else possible.Add(new Outcome(Errno.EIO, DmaValues.Fault(DmaFaults.Permission), []));
            }
            if (!canPass) return covered ? possible : null;
        }
        if (!covered) return null;
        if (firstLive is { } a) possible.Add(Outcome.OkWith(DmaValues.Phys(a)));
        if (firstStale is { } b) possible.Add(Outcome.OkWith(DmaValues.Phys(b)));
        return possible;
    }

    private (bool, ulong?) StaleCovered(DeviceDma d) =>
        d.Size > 0 && GroupFor(d.Dev) is { Current.Role: DomainRole.Default } g && !g.Lagging.ContainsKey(d.Dev)
            ? StaleEntry(d.Dev, d.Iova, d.Size, d.Write) : (false, null);

    private ulong? StaleDmaTarget(string dev, ulong iova, ulong size, bool write) =>
        GroupFor(dev) is { Current.Role: DomainRole.Default } && !GroupFor(dev)!.Lagging.ContainsKey(dev) && size > 0
            ? StaleTranslation(dev, iova, size, write) : null;
}
