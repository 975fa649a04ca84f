using IommuConformance.Contract;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Model.State;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// Rules for the PASID and SVA operations (issue #8), read off the model's PASID arrays, mms and bonds: attaches to
/// PASIDs that fit the device mostly (0, past the width and the mock's fault-injecting 1024 now and then), replaces and
/// detaches of what is attached, binds of live mms to PASID-capable devices, unbinds of live references; macros for
/// the shared bond across two groups (§d#9), the mock's failing replace (§e.3) and the bad input around an mm's
/// exit. Weighted low: a default trace has a few of them.
/// </summary>
public static class PasidRules
{
    public const double MmNewWeight = 0.6, MmExitWeight = 0.5, MmMapWeight = 0.8, BindWeight = 1.2, UnbindWeight = 0.8, GetPasidWeight = 0.3;
    public const double AttachWeight = 1, ReplaceWeight = 0.5, DetachWeight = 0.5, ShareWeight = 0.4, InjectWeight = 0.6, OverAttachWeight = 0.4, AfterExitWeight = 0.15;

    /// <summary>The mock's fault-injecting PASID (IOMMU_TEST_PASID_RESERVED).</summary>
    public const ulong InjectorPasid = DriverCapabilities.InjectorPasid;

    public static IEnumerable<Rule<IommuSession>> All()
    {
        yield return Op(MmNew.Entry.Name, MmNewWeight, s => s.State.LiveMmCount < 3 ? 1 : 0.1,
            s => s.Emit(new MmNew(Binder(s, PasidArgs.MmSpace, s.State.LiveMms))));
        yield return Op(MmExit.Entry.Name, MmExitWeight, s => s.State.LiveMmCount > 0 ? 1 : Stale(s, PasidArgs.MmSpace),
            s => s.Emit(new MmExit(Handle(s, PasidArgs.MmSpace, s.State.LiveMms))));
        yield return Op(MmMap.Entry.Name, MmMapWeight, s => s.State.LiveMmCount > 0 ? 1 : Stale(s, PasidArgs.MmSpace), s =>
        {
            // a few pages in the process's low 16 MiB (often next to what it maps already), mostly r or rw, now and then bad
            var va = 0x40_0000UL + (ulong)s.Random.Below(0x40) * 0x1000;
            var size = (ulong)s.Random.Between(1, 8) * 0x1000;
            var paddr = 0x8000_0000UL + (ulong)s.Random.Below(1 << 16) * 0x1000;
            var prot = s.Random.Below(10) switch { < 4 => ProtFlags.ReadWrite, < 7 => ProtFlags.Read, < 9 => ProtFlags.Write, _ => "c" };
            if (s.Random.Chance(0.04)) va |= 0x800;
            s.Emit(new MmMap(Handle(s, PasidArgs.MmSpace, s.State.LiveMms), va, paddr, size, prot));
        });
        yield return Op(SvaBind.Entry.Name, BindWeight, s => s.State.LiveMmCount > 0 ? (s.Probed.Count > 0 ? 1 : 0.05) : Stale(s, PasidArgs.MmSpace),
            s => s.Emit(new SvaBind(s.Devices[BindDevice(s)], Handle(s, PasidArgs.MmSpace, s.State.LiveMms), Binder(s, PasidArgs.SvaSpace, s.State.LiveSvaHandles))));
        yield return Op(SvaUnbind.Entry.Name, UnbindWeight, s => s.State.LiveSvaHandleCount > 0 ? 1 : Stale(s, PasidArgs.SvaSpace),
            s => s.Emit(new SvaUnbind(Handle(s, PasidArgs.SvaSpace, s.State.LiveSvaHandles))));
        yield return Op(SvaGetPasid.Entry.Name, GetPasidWeight, s => s.State.LiveSvaHandleCount > 0 ? 1 : Stale(s, PasidArgs.SvaSpace),
            s => s.Emit(new SvaGetPasid(Handle(s, PasidArgs.SvaSpace, s.State.LiveSvaHandles))));

        yield return Op(AttachDevicePasid.Entry.Name, AttachWeight, s => s.Live.Count > 0 && s.Probed.Count > 0 ? 1 : AnyDomain(s), s =>
        {
            var d = PasidDevice(s);
            var attach = new AttachDevicePasid(DomainFor(s, d), s.Devices[d], PasidFor(s, d));
            // a PASID past the first leaf of the device's PASID table (the 1024 drawn for the mock's injector): half of them meet
            // fail_nth, at the leaf or at the table before it (decided by draws the rule makes anyway: docs/generation.md)
            if (LeafPasid(s, d, attach.Pasid) && s.Random.Chance(0.5)) s.Emit(new FailNth(s.Random.Chance(0.75) ? 1UL : 2UL));
            s.Emit(attach);
        });
        yield return Op(ReplaceDevicePasid.Entry.Name, ReplaceWeight, s => AnyAttached(s) ? 1 : s.Live.Count > 0 ? 0.1 : 0.2 * AnyDomain(s), s =>
        {
            var attached = Attached(s);
            if (attached.Count > 0 && s.Random.Chance(0.85))
            {
                var (d, pasid, handle) = s.Random.Pick(attached);
                var other = s.Live.Where(h => h != handle).ToList();
                var domain = Stale(s) is { } stale && s.Random.Chance(0.12) ? stale
                    : other.Count > 0 && s.Random.Chance(0.85) ? s.Random.Pick(other) : handle;
                s.Emit(new ReplaceDevicePasid(domain, s.Devices[d], pasid));
                return;
            }
            var dev = PasidDevice(s);
            s.Emit(new ReplaceDevicePasid(DomainFor(s, dev), s.Devices[dev], PasidFor(s, dev)));
        });
        yield return Op(DetachDevicePasid.Entry.Name, DetachWeight, s => AnyAttached(s) ? 1 : s.Live.Count > 0 ? 0.1 : 0.2 * AnyDomain(s), s =>
        {
            var attached = Attached(s);
            if (attached.Count > 0 && s.Random.Chance(0.85))
            {
                var (d, pasid, handle) = s.Random.Pick(attached);
                var domain = Stale(s) is { } stale && s.Random.Chance(0.06) ? stale : s.Random.Chance(0.9) ? handle : DomainFor(s, d);
                s.Emit(new DetachDevicePasid(domain, s.Devices[d], pasid));
                return;
            }
            var dev = PasidDevice(s);
            s.Emit(new DetachDevicePasid(DomainFor(s, dev), s.Devices[dev], PasidFor(s, dev)));
        });

        // One mm bound through two groups of one instance, then through the second again: the bond is shared (§d#9).
        yield return new Rule<IommuSession>("sva_share", ShareWeight, s => Count(s, IsSvaDevice, 2) >= 2 ? 1 : 0, s =>
        {
            var devices = SvaDevices(s);
            var a = s.Random.Pick(devices);
            var b = s.PickWhere(devices, x => x != a && s.GroupOf(x)?.Id != s.GroupOf(a)?.Id && s.IommuOf(x) == s.IommuOf(a));
            if (b < 0) b = s.PickWhere(devices, x => x != a);
            if (b < 0) return;
            var mm = s.State.LiveMms.Count > 0 && s.Random.Chance(0.5) ? s.Random.Pick(s.State.LiveMms.ToList()) : s.Names.Fresh(PasidArgs.MmSpace);
            if (!s.State.LiveMms.Contains(mm) && s.Emit(new MmNew(mm)) is null) return;
            foreach (var d in (int[])[a, b, b])
                if (s.Emit(new SvaBind(s.Devices[d], mm, s.Names.Fresh(PasidArgs.SvaSpace))) is null) return;
            if (s.Random.Chance(0.5))
                foreach (var h in s.State.LiveSvaHandles.ToList())
                    if (s.Random.Chance(0.7) && s.Emit(new SvaUnbind(h)) is null) return;
        });

        // A bind onto a PASID that iommufd holds: a paging domain attached at the mm's PASID (the one it has, or the one
        // its first bind will get), then the bind (EBUSY: another type of domain holds the slot).
        yield return new Rule<IommuSession>("sva_over_attach", OverAttachWeight, s => s.Live.Count > 0 && Count(s, IsPasidCapable, 1) > 0 ? 1 : 0, s =>
        {
            var d = s.Random.Pick(PasidCapable(s));
            var dev = s.Devices[d];
            var withPasid = s.State.LiveMms.Where(m => s.State.MmPasid(m) is { } p && p < (ulong)s.State.MaxPasidsOf(dev)).ToList();
            string mm;
            ulong pasid;
            if (withPasid.Count > 0 && s.Random.Chance(0.5))
            {
                mm = s.Random.Pick(withPasid);
                pasid = s.State.MmPasid(mm)!.Value;
            }
            else
            {
                mm = s.Names.Fresh(PasidArgs.MmSpace);
                if (s.Emit(new MmNew(mm)) is null) return;
                pasid = NextGlobalPasid(s);
            }
            if (s.Emit(new AttachDevicePasid(DomainFor(s, d), dev, pasid)) is null) return;
            s.Emit(new SvaBind(dev, mm, s.Names.Fresh(PasidArgs.SvaSpace)));
        });

        // The bad input around an exit: a bond made, its mm exited, a bind of the dead name (ENOENT), the bond still
        // there (its PASID kept until the last unbind), unbound twice (ENOENT) and asked for its PASID after (ENOENT).
        yield return new Rule<IommuSession>("sva_after_exit", AfterExitWeight, s => SvaDevices(s).Count > 0 ? 1 : 0, s =>
        {
            var dev = s.Devices[s.Random.Pick(SvaDevices(s))];
            var mm = s.Names.Fresh(PasidArgs.MmSpace);
            var h = s.Names.Fresh(PasidArgs.SvaSpace);
            if (s.Emit(new MmNew(mm)) is null || s.Emit(new SvaBind(dev, mm, h)) is null || s.Emit(new MmExit(mm)) is null) return;
            if (s.Emit(new SvaBind(dev, mm, s.Names.Fresh(PasidArgs.SvaSpace))) is null || s.Emit(new SvaGetPasid(h)) is null) return;
            if (s.Random.Chance(0.3)) return;   // the bond outlives its mm's name for the rest of the trace
            if (s.Emit(new SvaUnbind(h)) is null || s.Emit(new SvaUnbind(h)) is null) return;
            s.Emit(new SvaGetPasid(h));
        });

        // The selftest's failing replace: PASID 1024 of a mock device attached (armed), replaced by another domain
        // (ENOMEM, the old domain kept), then attached again (EBUSY) or detached.
        yield return new Rule<IommuSession>("pasid_replace_fails", InjectWeight, s => Count(s, IsMockPasidDevice, 1) > 0 ? 1 : 0, s =>
        {
            var d = s.Random.Pick(MockPasidDevices(s));
            var dev = s.Devices[d];
            var d1 = s.Names.Fresh(Spaces.Domain);
            if (s.Emit(new DomainAllocPaging(dev, d1)) is null || s.Emit(new AttachDevicePasid(d1, dev, InjectorPasid)) is null) return;
            var d2 = s.Names.Fresh(Spaces.Domain);
            if (s.Emit(new DomainAllocPaging(dev, d2)) is null || s.Emit(new ReplaceDevicePasid(d2, dev, InjectorPasid)) is null) return;
            s.Emit(s.Random.Chance(0.6) ? new AttachDevicePasid(d1, dev, InjectorPasid) : new DetachDevicePasid(d1, dev, InjectorPasid));
        });
    }

    /// <summary>
    /// The rules only a PASID-focused run has (<see cref="TraceGenSettings.PasidFocus"/>, the hunt of a PASID-hardware
    /// bug): kept out of the default run, whose rule set and draws stay as they were.
    /// </summary>
    public static IEnumerable<Rule<IommuSession>> Focus()
    {
        // A fresh mm with a page, bound, a PASID-tagged DMA into the page, then the unbind: where a PASID entry or CD the
        // IOMMU cached at the DMA would outlive the teardown (the entry cleared, the mm's table still live).
        yield return new Rule<IommuSession>("sva_dma_unbind", 1, s => SvaDevices(s).Count > 0 ? 1 : 0, s =>
        {
            var dev = s.Devices[s.Random.Pick(SvaDevices(s))];
            var mm = s.Names.Fresh(PasidArgs.MmSpace);
            var h = s.Names.Fresh(PasidArgs.SvaSpace);
            var va = 0x40_0000UL + (ulong)s.Random.Below(0x40) * 0x1000;
            var paddr = 0x8000_0000UL + (ulong)s.Random.Below(1 << 16) * 0x1000;
            if (s.Emit(new MmNew(mm)) is null || s.Emit(new MmMap(mm, va, paddr, 0x1000, ProtFlags.ReadWrite)) is null) return;
            if (s.Emit(new SvaBind(dev, mm, h)) is null || s.State.MmPasid(mm) is not { } pasid) return;
            if (s.Emit(new DeviceDma(dev, va + (ulong)s.Random.Below(0x1000), 1, s.Random.Chance(0.5), pasid)) is null) return;
            s.Emit(new SvaUnbind(h));
        });
    }

    // On a machine without a PASID-capable device (a third of them; every virtio one) the rules fire a tenth as often:
    // their bad-input paths stay covered without taking the steps of the machine's other operations.
    private static Rule<IommuSession> Op(string name, double weight, Func<IommuSession, double> guard, Action<IommuSession> fire) =>
        new(name, weight, s => guard(s) * (s.AnyPasidDevice ? s.PasidWeight : 0.1), fire) { Operation = name };

    private static double Stale(IommuSession s, string space) => s.Names.Bound(space).Count > 0 ? 0.03 : 0;

    /// <summary>A fresh name mostly; a live one (EEXIST) now and then.</summary>
    private static string Binder(IommuSession s, string space, IReadOnlyCollection<string> live) =>
        live.Count > 0 && s.Random.Chance(0.04) ? s.Random.Pick(live.ToList()) : s.Names.Fresh(space);

    /// <summary>A live name mostly; a stale one (ENOENT) now and then.</summary>
    private static string Handle(IommuSession s, string space, IReadOnlyCollection<string> live)
    {
        var bound = s.Names.Bound(space);
        if (live.Count > 0 && (bound.Count == live.Count || s.Random.Chance(0.93))) return s.Random.Pick(live.ToList());
        return s.Random.Pick(bound);   // the guards ask for a bound name (Stale)
    }

    /// <summary>
    /// <c>fail_nth 1</c> before a PASID operation that allocates (docs/dma.md, "Fault injection"): a bind on an SVA device
    /// (the mm's data, the bond, the SVA domain, smmuv3's CD table), or an attach on a device whose driver allocates its
    /// PASID table at a set (smmuv3, a scalable VT-d unit), mostly at a PASID of a leaf past the first. False, having drawn
    /// nothing, where no probed device and no live name fit (the caller then emits what it would have).
    /// </summary>
    public static bool FaultedPasidSet(IommuSession s)
    {
        // a device with more PASIDs than one leaf of its table holds
        bool Leaves(int x) => s.IommuOf(x) is var i and >= 0 && DriverCapabilities.For(s.Topology.Iommus[i]) is { PasidLeafSite: not null } caps
                              && s.State.MaxPasidsOf(s.Devices[x]) >= 2 << caps.PasidLeafBits;
        var canBind = s.State.LiveMmCount > 0 && Count(s, IsSvaDevice, 1) > 0;
        var canSet = s.Live.Count > 0 && s.Probed.Any(Leaves);
        if (!canBind && !canSet) return false;
        if (canBind && (!canSet || s.Random.Chance(0.4)))
        {
            // the mm's data (a fresh mm), the bond, the SVA domain, the CD table: the n-th of them
            s.Emit(new FailNth((ulong)s.Random.Between(1, 3)));
            var b = s.Random.Pick(SvaDevices(s));
            s.Emit(new SvaBind(s.Devices[b], Handle(s, PasidArgs.MmSpace, s.State.LiveMms), Binder(s, PasidArgs.SvaSpace, s.State.LiveSvaHandles)));
            return true;
        }
        var d = s.PickWhere(s.Probed, Leaves);
        var caps = DriverCapabilities.For(s.Topology.Iommus[s.IommuOf(d)])!;
        // the leaf, or (smmuv3) the table before it where no attach made one
        s.Emit(new FailNth(caps.FirstPagingAttachSites.IsEmpty || s.Random.Chance(0.75) ? 1UL : 2UL));
        var bits = caps.PasidLeafBits;
        var leaves = Math.Min((ulong)s.State.MaxPasidsOf(s.Devices[d]) >> bits, 5UL);
        var pasid = s.Random.Chance(0.8) ? (1UL + (ulong)s.Random.Below((int)leaves - 1)) << bits : PasidFor(s, d);
        s.Emit(new AttachDevicePasid(DomainFor(s, d), s.Devices[d], pasid));
        return true;
    }

    /// <summary>Whether <paramref name="pasid"/> lies past the first leaf of the device's PASID table (smmuv3: 1,024 CDs a leaf; scalable VT-d: 64 entries).</summary>
    private static bool LeafPasid(IommuSession s, int d, ulong pasid) =>
        s.IommuOf(d) is var i and >= 0 && DriverCapabilities.For(s.Topology.Iommus[i]) is { PasidLeafSite: not null } caps
        && (ulong)s.State.MaxPasidsOf(s.Devices[d]) > 1UL << caps.PasidLeafBits && pasid >> caps.PasidLeafBits != 0
        && pasid < (ulong)s.State.MaxPasidsOf(s.Devices[d]);

    /// <summary>A probed device with PASIDs mostly, else any device.</summary>
    private static int PasidDevice(IommuSession s)
    {
        var d = s.Random.Chance(0.85) ? s.PickWhere(s.Probed, x => s.State.MaxPasidsOf(s.Devices[x]) > 0) : -1;
        return d >= 0 ? d : IommuArgs.Device(s);
    }

    /// <summary>A device an SVA bind can succeed on mostly (PASIDs, a driver with SVA), else as <see cref="PasidDevice"/>.</summary>
    private static int BindDevice(IommuSession s)
    {
        var sva = SvaDevices(s);
        return sva.Count > 0 && s.Random.Chance(0.7) ? s.Random.Pick(sva) : PasidDevice(s);
    }

    /// <summary>Probed devices with PASIDs behind an instance whose driver has SVA.</summary>
    private static List<int> SvaDevices(IommuSession s) => [.. s.Probed.Where(x => IsSvaDevice(s, x))];

    private static bool IsSvaDevice(IommuSession s, int x) =>
        s.State.MaxPasidsOf(s.Devices[x]) > 0 && s.IommuOf(x) is var i and >= 0 && DriverCapabilities.For(s.Topology.Iommus[i])?.Sva == true;

    /// <summary>Probed devices with PASIDs.</summary>
    private static List<int> PasidCapable(IommuSession s) => [.. s.Probed.Where(x => IsPasidCapable(s, x))];

    private static bool IsPasidCapable(IommuSession s, int x) => s.State.MaxPasidsOf(s.Devices[x]) > 1;

    /// <summary>How many probed devices match, counting no further than <paramref name="enough"/> (a guard's question, without a list).</summary>
    private static int Count(IommuSession s, Func<IommuSession, int, bool> match, int enough)
    {
        var n = 0;
        var probed = s.Probed;
        for (var k = 0; k < probed.Count && n < enough; k++)
            if (match(s, probed[k])) n++;
        return n;
    }

    /// <summary>The PASID the global IDA hands out next: the lowest one not in use.</summary>
    private static ulong NextGlobalPasid(IommuSession s)
    {
        var pasid = 1UL;
        while (s.State.PasidView.UsedPasids.Contains(pasid)) pasid++;
        return pasid;
    }

    /// <summary>Probed mock devices wide enough for PASID 1024.</summary>
    private static List<int> MockPasidDevices(IommuSession s) => [.. s.Probed.Where(x => IsMockPasidDevice(s, x))];

    private static bool IsMockPasidDevice(IommuSession s, int x) =>
        (ulong)s.State.MaxPasidsOf(s.Devices[x]) > InjectorPasid && s.IommuOf(x) is var i and >= 0
        && DriverCapabilities.For(s.Topology.Iommus[i])?.PasidFaultInjector == true;

    /// <summary>A live domain allocated on the device's instance mostly, else any handle.</summary>
    private static string DomainFor(IommuSession s, int d)
    {
        var bound = s.Names.Bound(Spaces.Domain);
        if (bound.Count > s.Live.Count && s.Random.Chance(0.05)) return s.Random.Pick([.. bound.Where(h => !s.Live.Contains(h))]);   // stale: ENOENT
        var same = s.Live.Where(h => s.DeviceOf(h) is var o and >= 0 && s.IommuOf(o) == s.IommuOf(d)).ToList();
        if (same.Count > 0 && s.Random.Chance(0.85)) return s.Random.Pick(same);
        if (s.Live.Count > 0 && s.Random.Chance(0.9)) return s.Random.Pick(s.Live);
        return s.Random.Pick(s.Names.Bound(Spaces.Domain));   // the guards ask for a bound name (AnyDomain)
    }

    /// <summary>A domain name bound once and freed since (ENOENT), or null.</summary>
    private static string? Stale(IommuSession s)
    {
        var bound = s.Names.Bound(Spaces.Domain);
        if (bound.Count == s.Live.Count) return null;
        var stale = bound.Where(h => !s.Live.Contains(h)).ToList();
        return stale.Count > 0 ? s.Random.Pick(stale) : null;
    }

    /// <summary>The readiness of a rule that names a domain when no live one fits: some name bound (stale ones: ENOENT), else none.</summary>
    private static double AnyDomain(IommuSession s) => s.Names.Bound(Spaces.Domain).Count > 0 ? 0.05 : 0;

    /// <summary>
    /// A PASID within the device's width mostly (small, so that attaches meet SVA's global PASIDs); 0, the width itself
    /// or past it, and the mock's 1024 now and then.
    /// </summary>
    private static ulong PasidFor(IommuSession s, int d)
    {
        var max = (ulong)s.State.MaxPasidsOf(s.Devices[d]);
        var roll = s.Random.NextDouble();
        if (roll < 0.05) return 0;
        if (roll < 0.1) return Math.Min(Math.Max(max, 1), PasidArgs.PasidLimit - 1);
        if (roll < 0.15 && max > InjectorPasid) return InjectorPasid;
        var top = Math.Min(Math.Max(max, 2), 8UL);
        return (ulong)s.Random.Between(1, (int)top - 1);
    }

    /// <summary>Whether <see cref="Attached"/> has any (what the guards ask every step, without the list).</summary>
    private static bool AnyAttached(IommuSession s) => s.AnyPasidAttached;

    /// <summary>(device, PASID, handle) of every iommufd attach in the model, one member per group.</summary>
    private static List<(int Device, ulong Pasid, string Handle)> Attached(IommuSession s)
    {
        var found = new List<(int, ulong, string)>();
        foreach (var (_, g) in s.State.Groups)
        {
            if (g.Members.Count == 0) continue;
            var member = g.Members[0];
            foreach (var (pasid, entry) in s.State.PasidsOf(member))
                if (entry is { IsSva: false, Handle: { } h }) found.Add((s.IndexOf(member), pasid, h));
        }
        return found;
    }
}
