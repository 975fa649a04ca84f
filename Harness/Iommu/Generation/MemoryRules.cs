using IommuConformance.Contract;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Model.State;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// Rules for the IOMMU API and device DMA (<c>map</c>, <c>unmap</c>, <c>iova_to_phys</c>, <c>device_dma</c>), read off
/// the model's mappings and its driver's page-table facts: maps of mixed page sizes that straddle 2M / 1G boundaries
/// (where the driver has them), overmaps, partial unmaps (inside a large leaf, across a mapping's end, over a hole),
/// bad input (unaligned, size 0, past the aperture, unknown or no-access prot), DMA to mapped, just-unmapped and
/// never-mapped addresses, a macro that moves a device to another domain between two DMAs and one that unmaps what a
/// DMA reached between two DMAs. Used only when
/// <see cref="TraceGenSettings.MemoryOps"/> is on.
/// </summary>
public static class MemoryRules
{
    public const double MapWeight = 5, UnmapWeight = 3.5, IovaToPhysWeight = 1.5, DmaWeight = 4, MoveWeight = 1.5, UnmapAcrossDmaWeight = 1.5;

    private const ulong K4 = PageTableCaps.K4, M2 = PageTableCaps.M2, G1 = PageTableCaps.G1;

    public static IEnumerable<Rule<IommuSession>> All()
    {
        yield return Op(Map.Entry.Name, MapWeight, s => s.Live.Count > 0 ? 1 : Stale(s), s => s.Emit(MapChoice(s)));
        yield return Op(Unmap.Entry.Name, UnmapWeight, s => s.Live.Count > 0 ? 1 : Stale(s), s => s.Emit(UnmapChoice(s)));
        yield return Op(IovaToPhys.Entry.Name, IovaToPhysWeight, s => s.Live.Count > 0 ? 1 : Stale(s), s =>
        {
            var handle = Handle(s);
            s.Emit(new IovaToPhys(handle, Inside(s, handle) ?? Somewhere(s, handle)));
        });
        yield return Op(DeviceDma.Entry.Name, DmaWeight, s => s.Probed.Count > 0 ? 1 : 0.1, s =>
            // half the time a device on a user domain (where mapped addresses translate), else any device
            s.Emit(DmaChoice(s, s.OnUserDomain.Count > 0 && s.Random.Chance(0.5) ? s.Pick(s.OnUserDomain) : IommuArgs.Device(s))));

        // DMA while the device moves: a DMA at a mapped address of its user domain, the group moved (to another live
        // domain, or back to its core domain), the same DMA again.
        yield return new Rule<IommuSession>("dma_across_move", MoveWeight, s => s.OnUserDomain.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.OnUserDomain);
            var dev = s.Devices[d];
            var dma = DmaChoice(s, d);
            s.Emit(dma);
            var other = s.Live.Where(h => h != s.UserDomainOf(d)).ToList();
            if (other.Count > 0 && s.Random.Chance(0.7)) s.Emit(new AttachGroup(s.Random.Pick(other), dev));
            else s.Emit(new DetachGroup(s.UserDomainOf(d) ?? s.Live[0], dev));
            s.Emit(dma);
        });

        // DMA across an unmap: a DMA inside a mapping of the device's user domain (its translation is now cached), an
        // unmap that removes it (the whole mapping, the leaf holding it, or a part from that leaf's start, which a
        // driver may answer by removing the whole leaf), the same DMA again: a missed or short invalidation answers it.
        yield return new Rule<IommuSession>("dma_across_unmap", UnmapAcrossDmaWeight, s => s.OnUserDomain.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.OnUserDomain);
            var handle = s.UserDomainOf(d);
            var runs = handle is null ? [] : s.State.MappingsOf(handle).Runs;
            if (handle is null || runs.Count == 0)
            {
                s.Emit(DmaChoice(s, d));
                return;
            }
            // a run of the largest leaves it has, mostly (where a partial unmap may remove more than it asked)
            var largest = runs.Max(r => r.Leaf);
            var pool = s.Random.Chance(0.7) ? runs.Where(r => r.Leaf == largest).ToList() : [.. runs];
            var run = pool[s.Random.Below(pool.Count)];
            var caps = Caps(s, handle);
            var at = run.Iova + (ulong)s.Random.Below((int)Math.Min(run.Size, 1UL << 22));
            var dma = new DeviceDma(s.Devices[d], at, (ulong)s.Random.Between(1, 64), s.Random.Chance(0.5));
            s.Emit(dma);
            var leafStart = run.Iova + (at - run.Iova) / run.Leaf * run.Leaf;
            s.Emit(s.Random.Below(3) switch
            {
                0 => new Unmap(handle, run.Iova, run.Size),
                1 => new Unmap(handle, leafStart, caps.MinPage * (ulong)s.Random.Between(1, 4)),
                _ => new Unmap(handle, leafStart, run.Leaf),
            });
            s.Emit(dma);
        });
    }

    private static Rule<IommuSession> Op(string name, double weight, Func<IommuSession, double> guard, Action<IommuSession> fire) =>
        new(name, weight, guard, fire) { Operation = name };

    private static double Stale(IommuSession s) => s.Names.Bound(Spaces.Domain).Count > 0 ? 0.05 : 0;

    /// <summary>
    /// A live handle mostly (one a device is attached to half the time, the one a device DMAs through a third of the
    /// time), a stale one now and then.
    /// </summary>
    private static string Handle(IommuSession s)
    {
        if (s.Live.Count == 0 || s.Random.Chance(0.03))
            return s.Names.Bound(Spaces.Domain).Count > 0 ? s.Random.Pick(s.Names.Bound(Spaces.Domain)) : "d1";
        if (s.OnUserDomain.Count > 0 && s.Random.Chance(0.33) && s.UserDomainOf(s.Pick(s.OnUserDomain)) is { } used) return used;
        return s.Attached.Count > 0 && s.Random.Chance(0.5) ? s.Random.Pick(s.Attached) : s.Random.Pick(s.Live);
    }

    private static PageTableCaps Caps(IommuSession s, string handle) => s.State.PagingOf(handle) ?? PageTableCaps.Smmuv3;

    /// <summary>A leaf size of the driver: small ones mostly, the largest it has now and then.</summary>
    private static ulong LeafSize(IommuSession s, PageTableCaps caps)
    {
        var roll = s.Random.Below(10);
        if (roll < 5) return caps.MinPage;
        if (roll < 8) return (caps.PgsizeBitmap & M2) != 0 ? M2 : caps.MinPage;
        return (caps.PgsizeBitmap & G1) != 0 ? G1 : caps.MinPage;
    }

    /// <summary>An aligned IOVA in one of a few regions inside the aperture (so that maps meet each other).</summary>
    private static ulong Region(IommuSession s, PageTableCaps caps, ulong align)
    {
        var start = caps.ApertureStart == 0 ? 0 : caps.ApertureStart;
        var span = Math.Min(caps.ApertureLast - start + 1, 4 * G1);
        var slot = (ulong)s.Random.Below(4) * (span / 4);
        var offset = (ulong)s.Random.Below(8) * align;
        var iova = start + slot + offset;
        return iova - iova % align + (iova % align == 0 ? 0 : align);
    }

    internal static Map MapChoice(IommuSession s)
    {
        var handle = Handle(s);
        var caps = Caps(s, handle);
        var prot = s.Random.Below(20) switch { < 12 => "rw", < 15 => "r", < 17 => "w", 17 => "c", 18 => "rwc", _ => "rx" };
        var runs = s.State.MappingsOf(handle).Runs;
        var roll = s.Random.Below(20);
        var leaf = LeafSize(s, caps);
        ulong iova, size;
        if (roll < 3 && runs.Count > 0)
        {
            // overmap: over part of an existing mapping
            var run = runs[s.Random.Below(runs.Count)];
            iova = run.Iova + (ulong)s.Random.Below((int)Math.Min(run.Size / caps.MinPage, 64)) * caps.MinPage;
            size = caps.MinPage * (ulong)s.Random.Between(1, 8);
        }
        else if (roll < 7 && leaf > caps.MinPage)
        {
            // straddle a block boundary: a few small pages before it, one block, a few after
            var boundary = Region(s, caps, leaf) + leaf;
            var before = K4 * (ulong)s.Random.Between(1, 3);
            iova = boundary - before;
            size = before + leaf + K4 * (ulong)s.Random.Below(3);
        }
        else if (roll < 9)
        {
            // bad input: unaligned, size 0, past the aperture
            iova = Region(s, caps, caps.MinPage);
            size = caps.MinPage;
            switch (s.Random.Below(4))
            {
                case 0: iova += caps.MinPage / 2; break;
                case 1: size = 0; break;
                case 2: size += caps.MinPage / 4; break;
                default: iova = (caps.ApertureLast & ~(caps.MinPage - 1)) - caps.MinPage; size = 4 * caps.MinPage; break;
            }
        }
        else
        {
            iova = Region(s, caps, leaf);
            size = leaf * (ulong)s.Random.Between(1, 3);
        }
        // paddr alike offset in the largest block mostly (best page sizes), else offset by the page size below the
        // leaf, so that the best-page-size rule takes the smaller pages: 2M blocks under a 1G leaf (512 per GiB, where
        // 4K pages would be a quarter of a million and make a map cost seconds), 4K pages under a 2M one.
        var misalign = leaf >= G1 ? M2 : K4;
        var paddr = s.Random.Chance(0.8) ? iova + G1 * (ulong)s.Random.Between(1, 4) : iova + G1 + misalign;
        if (caps.ApertureStart != 0) paddr = iova;   // the mock: any paddr will do; keep it simple
        return new Map(handle, iova, paddr, size, prot);
    }

    internal static Unmap UnmapChoice(IommuSession s)
    {
        var handle = Handle(s);
        var caps = Caps(s, handle);
        var runs = s.State.MappingsOf(handle).Runs;
        if (runs.Count == 0 || s.Random.Chance(0.1))
        {
            // never mapped, or bad input
            var at = Region(s, caps, caps.MinPage);
            return s.Random.Below(4) switch
            {
                0 => new Unmap(handle, at + caps.MinPage / 2, caps.MinPage),
                1 => new Unmap(handle, at, 0),
                _ => new Unmap(handle, at, caps.MinPage * (ulong)s.Random.Between(1, 4)),
            };
        }
        var run = runs[s.Random.Below(runs.Count)];
        switch (s.Random.Below(10))
        {
            case < 4: return new Unmap(handle, run.Iova, run.Size);                          // a whole mapping
            case < 6:                                                                         // part of a leaf (inside a large one)
                var inside = Offset(s, caps, run);
                // one in five from inside a mapping: its tail, to its very end (a split at the start only)
                var pages = s.Random.Between(1, 5);
                return new Unmap(handle, run.Iova + inside, pages == 5 && inside != 0 ? run.Size - inside : caps.MinPage * (ulong)pages);
            case < 8:                                                                         // across the next hole
                var from = s.Random.Chance(0.3) ? Offset(s, caps, run) : 0;
                return new Unmap(handle, run.Iova + from, run.Size - from + caps.MinPage * (ulong)s.Random.Between(1, 4) + (runs.Count > 1 ? M2 : 0));
            default:                                                                          // one leaf at a time
                return new Unmap(handle, run.Iova, run.Leaf);
        }
    }

    /// <summary>Half the time an offset inside the run (a start inside a leaf, or inside one map call's slots), else 0.</summary>
    private static ulong Offset(IommuSession s, PageTableCaps caps, Model.State.Run run) =>
        run.Size > caps.MinPage && s.Random.Chance(0.5)
            ? caps.MinPage * (ulong)s.Random.Below((int)Math.Min(run.Size / caps.MinPage, 16)) : 0;

    /// <summary>A mapped IOVA of the handle (inside some mapping), or null when it maps nothing.</summary>
    private static ulong? Inside(IommuSession s, string handle)
    {
        var runs = s.State.MappingsOf(handle).Runs;
        if (runs.Count == 0) return null;
        var run = runs[s.Random.Below(runs.Count)];
        return run.Iova + (ulong)s.Random.Below((int)Math.Min(run.Size, 1UL << 20));
    }

    private static ulong Somewhere(IommuSession s, string handle) => Region(s, Caps(s, handle), 1) + (ulong)s.Random.Below(0x3000);

    /// <summary>
    /// A DMA of device <paramref name="d"/>: mostly at a mapped IOVA of its user domain; else where a stale translation
    /// would show — at an IOVA it reached lately that an unmap has removed since (mostly, when there is one), again at an
    /// IOVA it reached lately (its IOMMU may cache that translation), or in a range just unmapped (its first page, its
    /// last, or any page of it: an invalidation may have missed some); else anywhere.
    /// </summary>
    private static ulong InUnmapped(IommuSession s, (string Domain, ulong Iova, ulong Size) u)
    {
        var pages = Math.Max(u.Size / K4, 1);
        var page = s.Random.Below(3) switch { 0 => 0UL, 1 => pages - 1, _ => (ulong)s.Random.Below((int)Math.Min(pages, 1 << 20)) };
        return u.Iova + page * K4 + (ulong)s.Random.Below(0x1000);
    }

    private static DeviceDma DmaChoice(IommuSession s, int d)
    {
        var dev = s.Devices[d];
        var handle = s.UserDomainOf(d);
        var roll = s.Random.Below(10);
        ulong iova;
        var recent = s.RecentlyUnmapped.Where(u => u.Domain == handle).ToList();
        var again = s.RecentDmas.Where(x => x.Dev == dev).ToList();
        // an IOVA it reached before and that was unmapped since: exactly where a missed invalidation would still answer
        var stale = again.Where(x => recent.Any(u => x.Iova - u.Iova < u.Size)).ToList();
        if (handle is not null && roll < 5 && Inside(s, handle) is { } mapped) iova = mapped;
        else if (roll < 8 && stale.Count > 0 && s.Random.Chance(0.6)) iova = s.Random.Pick(stale).Iova;
        else if (roll < 6 && again.Count > 0) iova = s.Random.Pick(again).Iova;
        else if (roll < 8 && recent.Count > 0) iova = InUnmapped(s, recent[s.Random.Chance(0.7) ? ^1 : s.Random.Below(recent.Count)]);
        else iova = Region(s, handle is null ? PageTableCaps.Smmuv3 : Caps(s, handle), K4) + (ulong)s.Random.Below(0x1000);
        var size = s.Random.Below(10) switch { < 6 => (ulong)s.Random.Between(1, 64), < 9 => (ulong)s.Random.Between(0x800, 0x3000), _ => 0UL };
        var pasid = s.Random.Chance(0.03) ? (ulong?)s.Random.Between(1, 16) : null;
        // a PASID the device's driver was given, mostly inside what it maps: the PASID-tagged walk and its caches
        var entries = s.State.PasidEntriesOf(dev).ToList();
        if (entries.Count > 0 && s.Random.Chance(s.PasidDmaShare))
        {
            // in focus (a PASID-hardware hunt), one whose domain or mm maps something when there is one
            var withMaps = s.PasidFocus ? entries.Where(p => !s.State.PasidMappingsOf(dev, p).IsEmpty).ToList() : [];
            pasid = s.Random.Pick(withMaps.Count > 0 ? withMaps : entries);
            var runs = s.State.PasidMappingsOf(dev, pasid.Value).Runs;
            if (runs.Count > 0 && s.Random.Chance(0.8))
            {
                var run = runs[s.Random.Below(runs.Count)];
                iova = run.Iova + (ulong)s.Random.Below((int)Math.Min(run.Size, 1 << 30));
            }
        }
        return new DeviceDma(dev, iova, size, s.Random.Chance(0.5), pasid);
    }
}
