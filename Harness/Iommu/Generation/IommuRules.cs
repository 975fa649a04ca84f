using System.Collections.Frozen;
using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Model.State;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// The rules of IOMMU trace generation. Every operation of <see cref="Operations.All"/> gets its default rule from
/// its table entry (<see cref="OpRules.Default{TContext}"/>: arguments by kind, ready as its arguments are); the
/// operations where the default is poor get an override of the same name that picks arguments from the model's
/// state (detach names the attached handle, unbind a bound device, release an owned group); macro rules emit the
/// multi-step sequences that reach deep states (a VFIO-style open and close, a hot add into a group on a user domain,
/// a driver bound on every member of a group). Swarm testing then enables a random subset per trace.
/// </summary>
public static class IommuRules
{
    /// <summary>The weight of the default rule of an operation this table does not know (a new operation).</summary>
    public const double NewOperationWeight = 2;

    /// <summary>Nominal weights by operation (overrides and defaults alike).</summary>
    public static readonly FrozenDictionary<string, double> Weights = new Dictionary<string, double>
    {
        [Probe.Entry.Name] = 8,
        [BusProbe.Entry.Name] = 1,
        [Release.Entry.Name] = 2.5,
        [GetDomain.Entry.Name] = 1.5,
        [GroupTypeRead.Entry.Name] = 1.5,
        [GroupTypeWrite.Entry.Name] = 3,
        [DomainAllocPaging.Entry.Name] = 5,
        [DomainFree.Entry.Name] = 3,
        [AttachDevice.Entry.Name] = 3.5,
        [DetachDevice.Entry.Name] = 3,
        [AttachGroup.Entry.Name] = 5,
        [DetachGroup.Entry.Name] = 4,
        [DriverBind.Entry.Name] = 3.5,
        [DriverUnbind.Entry.Name] = 3.5,
        [ClaimDmaOwner.Entry.Name] = 3.5,
        [ReleaseDmaOwner.Entry.Name] = 3.5,
        [ClaimGroupDmaOwner.Entry.Name] = 3.5,
        [ReleaseGroupDmaOwner.Entry.Name] = 3.5,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The nominal weight of an operation's rule.</summary>
    public static double WeightOf(string op) => Weights.GetValueOrDefault(op, NewOperationWeight);

    /// <summary>The default rule of every table entry, generic in its arguments (what a new operation gets).</summary>
    public static RuleSet<IommuSession> Defaults { get; } =
        new(OpRules.Defaults(Operations.All, IommuArgs.Instance, spec => WeightOf(spec.Name)));

    /// <summary>
    /// The operations of issue #6 whose implementation is pending (branch hw): generated only with
    /// <see cref="TraceGenSettings.MemoryOps"/> until the integration.
    /// </summary>
    public static readonly IReadOnlyList<string> MemoryOperations =
        [Map.Entry.Name, Unmap.Entry.Name, IovaToPhys.Entry.Name, DeviceDma.Entry.Name];

    /// <summary>The table without <see cref="MemoryOperations"/>.</summary>
    public static OpTable CoreTable { get; } = new(Operations.All.All.Where(e => !MemoryOperations.Contains(e.Name)));

    /// <summary>The defaults of <see cref="CoreTable"/> with the overrides in place and the macro rules added (the default run).</summary>
    public static RuleSet<IommuSession> All { get; } = Build(CoreTable, memory: false);

    /// <summary>Every rule: <see cref="All"/>'s and the memory rules (<see cref="MemoryRules"/>), the novelty look-ahead over the whole table.</summary>
    public static RuleSet<IommuSession> WithMemory { get; } = Build(Operations.All, memory: true);

    /// <summary><see cref="WithMemory"/> and the PASID-focused macros (<see cref="PasidRules.Focus"/>): the hunt of a PASID-hardware bug.</summary>
    public static RuleSet<IommuSession> WithMemoryPasidFocus { get; } = Build(Operations.All, memory: true, pasidFocus: true);

    /// <summary>The rule set of <paramref name="settings"/>.</summary>
    public static RuleSet<IommuSession> For(TraceGenSettings settings) =>
        settings.MemoryOps ? settings.PasidFocus ? WithMemoryPasidFocus : WithMemory : All;

    private static RuleSet<IommuSession> Build(OpTable table, bool memory, bool pasidFocus = false)
    {
        var set = new RuleSet<IommuSession>(Defaults.Rules.Where(r => table.Find(r.Name) is not null));
        foreach (var rule in Overrides().Concat(Macros(table)).Concat(memory ? MemoryRules.All() : []).Concat(PasidRules.All()).Concat(DmaRules.All(memory))) set = set.With(rule);
        if (pasidFocus)
            foreach (var rule in PasidRules.Focus()) set = set.With(rule);
        return set;
    }

    private static IommuArgs A => IommuArgs.Instance;

    private static Rule<IommuSession> Op(string name, Func<IommuSession, double> guard, Action<IommuSession> fire, bool essential = false) =>
        new(name, WeightOf(name), guard, fire) { Operation = name, Essential = essential };

    private static IEnumerable<Rule<IommuSession>> Overrides()
    {
        // Probing brings everything else to life: never switched off. Devices not yet probed (or refused) first, half
        // the time one joining a live group (a hot add); with nothing left, a re-probe (a no-op) or a refused device.
        yield return Op(Probe.Entry.Name, s => s.Fresh.Count > 0 ? 1 : 0.04, s =>
        {
            var d = s.Fresh.Count > 0 ? ProbeChoice(s)
                : s.Probed.Count > 0 && s.Random.Chance(0.8) ? s.Pick(s.Probed) : s.AnyDevice();
            // the first entry of a legacy VT-d unit makes its context table: now and then that allocation fails
            if (DmaRules.FirstEntryAsks(s, s.Spec(d)) is { } table && s.Random.Chance(0.15)) s.Emit(new FailNth(table));
            s.Emit(new Probe(s.Devices[d]));
        }, essential: true);

        yield return Op(Release.Entry.Name, s => s.Probed.Count > 0 ? 1 : 0.05,
            s => s.Emit(new Release(s.Devices[IommuArgs.Device(s)])));

        // The type can change only while the group has no users: mostly such a group, with a default the driver can
        // change (a static blocked default takes only "auto"); now and then any group.
        yield return Op(GroupTypeWrite.Entry.Name, s => s.Probed.Count == 0 ? 0.1 : s.Retypable.Count > 0 ? 1 : 0.12, s =>
        {
            var d = s.Retypable.Count > 0 && s.Random.Chance(0.65) ? s.Pick(s.Retypable) : IommuArgs.Device(s);
            var current = s.GroupOf(d)?.Default;
            var arg = GroupTypeWrite.Entry.Args[1];
            var type = current == DefaultKind.Blocked && s.Random.Chance(0.5) ? GroupTypeStrings.Auto
                // Mostly a type other than the current one: a real change of the default domain.
                : current is not null && s.Random.Chance(0.6) ? s.Random.Pick([.. arg.Choices.Where(c => c != DefaultKinds.SysfsName(current))])
                : A.Choice(s, arg).Text!;
            s.Emit(new GroupTypeWrite(s.Devices[d], type));
        });

        yield return Op(DomainAllocPaging.Entry.Name, s => s.Probed.Count == 0 ? 0.1 : s.Unattached.Count >= 3 ? 0.15 : 1, s =>
        {
            var spec = DomainAllocPaging.Entry;
            var dev = s.Devices[IommuArgs.Device(s)];
            var name = A.Binder(s, spec.Args[1]).Text!;
            var flags = A.Choose(s, spec, 2, []).Text;
            s.Emit(new DomainAllocPaging(dev, name, flags));
        });

        // Free a handle nobody is attached to mostly; an attached one (EBUSY) or a stale one (ENOENT) sometimes.
        yield return Op(DomainFree.Entry.Name,
            s => s.Unattached.Count > 0 ? 1 : s.Names.Bound(Spaces.Domain).Count > 0 ? 0.1 : 0, s =>
            {
                var roll = s.Random.NextDouble();
                var handle = roll < 0.8 && s.Unattached.Count > 0 ? s.Random.Pick(s.Unattached)
                    : roll < 0.9 && s.Attached.Count > 0 ? s.Random.Pick(s.Attached)
                    : A.Handle(s, DomainFree.Entry.Args[0]).Text!;
                s.Emit(new DomainFree(handle));
            });

        yield return Op(AttachGroup.Entry.Name, s => AttachReadiness(s, alone: false), s =>
        {
            var (handle, d) = AttachChoice(s, singleton: false);
            s.Emit(new AttachGroup(handle, s.Devices[d]));
        });

        yield return Op(AttachDevice.Entry.Name, s => AttachReadiness(s, alone: true), s =>
        {
            var (handle, d) = AttachChoice(s, singleton: true);
            s.Emit(new AttachDevice(handle, s.Devices[d]));
        });

        // Detach mostly a group that is attached to a handle, naming that handle (detach_device: another handle
        // now and then, the mismatch warning); else any device and handle.
        yield return Op(DetachGroup.Entry.Name, DetachReadiness, s =>
        {
            var (d, handle) = DetachChoice(s, singletonShare: 0, mismatchShare: 0.1);
            s.Emit(new DetachGroup(handle, s.Devices[d]));
        });

        yield return Op(DetachDevice.Entry.Name, s => s.AloneOnUserDomain.Count > 0 ? 1 : 0.3 * DetachReadiness(s), s =>
        {
            var (d, handle) = DetachChoice(s, singletonShare: 0.7, mismatchShare: 0.15);
            s.Emit(new DetachDevice(handle, s.Devices[d]));
        });

        // A device whose bind takes the default domain mostly; an unprobed one (bound without a group) or any device
        // (already bound, or a group owned by a user: EBUSY) sometimes.
        yield return Op(DriverBind.Entry.Name, s => s.UnboundInGroup.Count > 0 ? 1 : s.UnboundDevices.Count > 0 ? 0.3 : 0.1, s =>
        {
            var roll = s.Random.NextDouble();
            var d = roll < 0.85 && s.UnboundInGroup.Count > 0 ? s.Pick(s.UnboundInGroup)
                : roll < 0.95 && s.UnboundDevices.Count > 0 ? s.Pick(s.UnboundDevices)
                : IommuArgs.Device(s);
            s.Emit(new DriverBind(s.Devices[d]));
        });

        yield return Op(DriverUnbind.Entry.Name, s => s.BoundDevices.Count > 0 ? 1 : 0.05, s =>
        {
            var d = s.BoundDevices.Count > 0 && s.Random.Chance(0.92) ? s.Pick(s.BoundDevices) : IommuArgs.Device(s);
            s.Emit(new DriverUnbind(s.Devices[d]));
        });

        yield return Op(ClaimDmaOwner.Entry.Name, s => s.Claimable.Count > 0 || s.Owned.Count > 0 ? 1 : s.Probed.Count > 0 ? 0.15 : 0.05, s =>
        {
            var (d, owner) = ClaimChoice(s, ClaimDmaOwner.Entry.Args[1], ownedShare: 0.17);
            s.Emit(new ClaimDmaOwner(s.Devices[d], owner));
        });

        yield return Op(ClaimGroupDmaOwner.Entry.Name, s => s.Claimable.Count > 0 ? 1 : s.Probed.Count > 0 ? 0.15 : 0.05, s =>
        {
            var (d, owner) = ClaimChoice(s, ClaimGroupDmaOwner.Entry.Args[1], ownedShare: 0.08);
            s.Emit(new ClaimGroupDmaOwner(s.Devices[d], owner));
        });

        yield return Op(ReleaseDmaOwner.Entry.Name, ReleaseOwnerReadiness,
            s => s.Emit(new ReleaseDmaOwner(s.Devices[ReleaseOwnerChoice(s)])));

        yield return Op(ReleaseGroupDmaOwner.Entry.Name, ReleaseOwnerReadiness,
            s => s.Emit(new ReleaseGroupDmaOwner(s.Devices[ReleaseOwnerChoice(s)])));
    }

    /// <summary>
    /// A fresh device, weighted: joining a live group counts double (triple when the group sits on a user domain);
    /// a require_direct device whose group is not live yet but has other members to come counts a quarter, so that
    /// it is more often the one that joins later (the path where it refuses the group's core domain).
    /// </summary>
    private static int ProbeChoice(IommuSession s)
    {
        Span<double> weights = stackalloc double[s.Fresh.Count];
        for (var i = 0; i < weights.Length; i++)
        {
            var d = s.Fresh[i];
            var peers = s.Peers[d];
            var live = -1;
            foreach (var p in peers)
                if (s.IsProbed(p)) live = p;
            weights[i] = live >= 0 ? (s.UserDomainOf(live) is null ? 2 : 3)
                : s.Spec(d).RequireDirect && peers.Length > 0 ? 0.25 : 1;
        }
        return s.Fresh[s.Random.Weighted(weights)];
    }

    private static double AttachReadiness(IommuSession s, bool alone) =>
        (alone ? s.AttachableAlone : s.Attachable).Count > 0 ? 1
        : s.Live.Count > 0 ? 0.1
        : s.Names.Bound(Spaces.Domain).Count > 0 ? ArgChooser<IommuSession>.StaleOnlyReadiness : 0;

    /// <summary>
    /// Mostly (80 %) a live handle, unattached first, with a probed device of the instance it was allocated on whose
    /// group is not on a user domain (the attach that succeeds; a singleton group for attach_device); 10 % a live
    /// handle with a device of another instance (another driver: the owner check, EINVAL; the same driver: its own
    /// refusal); else any handle (stale: ENOENT) and any device (a group on a user domain: EBUSY; unprobed: ENODEV).
    /// </summary>
    private static (string Handle, int Device) AttachChoice(IommuSession s, bool singleton)
    {
        var ready = singleton ? s.AttachableAlone : s.Attachable;
        var roll = s.Random.NextDouble();
        if (ready.Count > 0 && roll < 0.8)
        {
            var handle = (s.Random.Chance(0.8) ? s.PickUnattached(ready) : null) ?? s.Random.Pick(ready);
            var owner = s.DeviceOf(handle);
            var iommu = owner >= 0 ? s.IommuOf(owner) : -1;
            var d = s.PickFree(iommu, alone: singleton);
            if (d < 0 && (!singleton || s.Random.Chance(0.3))) d = s.PickFree(iommu, alone: false);
            if (d >= 0) return (handle, d);
        }
        else if (s.Live.Count > 0 && roll < 0.9)
        {
            // A domain of another instance (another driver: the owner check; the same driver: its attach_dev).
            var handle = s.Random.Pick(s.Live);
            var owner = s.DeviceOf(handle);
            var d = owner < 0 ? -1 : s.PickWhere(s.Probed, x => s.IommuOf(x) != s.IommuOf(owner));
            if (d >= 0) return (handle, d);
        }
        return (A.Handle(s, AttachGroup.Entry.Args[0]).Text!, IommuArgs.Device(s));
    }

    private static double DetachReadiness(IommuSession s) =>
        s.OnUserDomain.Count > 0 ? 1 : s.Live.Count > 0 ? 0.2 : s.Names.Bound(Spaces.Domain).Count > 0 ? 0.05 : 0;

    private static (int Device, string Handle) DetachChoice(IommuSession s, double singletonShare, double mismatchShare)
    {
        if (s.OnUserDomain.Count > 0 && s.Random.Chance(0.85))
        {
            var d = s.AloneOnUserDomain.Count > 0 && s.Random.Chance(singletonShare) ? s.Pick(s.AloneOnUserDomain) : s.Pick(s.OnUserDomain);
            var handle = s.Random.Chance(mismatchShare) ? A.Handle(s, DetachGroup.Entry.Args[0]).Text! : s.UserDomainOf(d)!;
            return (d, handle);
        }
        return (IommuArgs.Device(s), A.Handle(s, DetachGroup.Entry.Args[0]).Text!);
    }

    /// <summary>
    /// A group that a claim takes (no owner, on its default domain) mostly; one a user owns (the same token again
    /// mostly: a second claim of the device, or EPERM for the group) sometimes; else any device and token.
    /// </summary>
    private static (int Device, string? Owner) ClaimChoice(IommuSession s, Contract.Vocabulary.ArgSpec ownerArg, double ownedShare)
    {
        var roll = s.Random.NextDouble();
        var d = roll < 0.75 && s.Claimable.Count > 0 ? s.Pick(s.Claimable)
            : roll < 0.75 + ownedShare && s.Owned.Count > 0 ? s.Pick(s.Owned)
            : IommuArgs.Device(s);
        var owner = s.GroupOf(d)?.Owner is { } current && s.Random.Chance(0.7) ? current : A.Token(s, ownerArg).Text;
        return (d, owner);
    }

    private static double ReleaseOwnerReadiness(IommuSession s) => s.Owned.Count > 0 ? 1 : 0.05;

    private static int ReleaseOwnerChoice(IommuSession s) =>
        s.Owned.Count > 0 && s.Random.Chance(0.94) ? s.Pick(s.Owned) : IommuArgs.Device(s);

    private static Rule<IommuSession> Macro(string name, double weight, Func<IommuSession, double> guard, Action<IommuSession> fire) =>
        new(name, weight, guard, fire);

    /// <summary>True when the step was emitted and the model answered OK.</summary>
    private static bool Ok(Outcome? outcome) => outcome is { Errno: Errno.OK };

    private static IEnumerable<Rule<IommuSession>> Macros(OpTable table)
    {
        // Look-ahead: a few random steps are tried on the model and one with an outcome this trace lacks is kept.
        yield return OpRules.Novelty("novelty", 0.6, table, IommuArgs.Instance, tries: 6);

        // Boot: the first steps probe every bus at once (bus_iommu_probe at IOMMU registration), in random order;
        // now and then some drivers are bound before (late probes).
        yield return Macro("boot", 12, s => s.Count == 0 ? 1 : 0, s =>
        {
            if (s.Random.Chance(0.3))
                for (var d = 0; d < s.Devices.Length; d++)
                    if (s.Random.Chance(Unusual(s, d) ? 0.6 : 0.3) && s.Emit(new DriverBind(s.Devices[d])) is null) return;
            var buses = BusNames.All.ToArray();
            s.Random.Shuffle(buses);
            foreach (var bus in buses)
                if (s.Emit(new BusProbe(bus)) is null) return;
        });

        // Unplug every other member of a group: the one left is alone (attach_device, detach_device, and a device
        // left behind by a refused switch now alone in its group).
        yield return Macro("isolate", 1, s => s.InSharedGroup.Count > 0 ? 1 : 0, s =>
        {
            var keep = s.Devices[s.Pick(s.InSharedGroup)];
            var d = s.IndexOf(keep);
            foreach (var member in s.GroupOf(d)!.Members.ToArray())
                if (member != keep && s.Emit(new Release(member)) is null) return;
        });

        // A driver bound on every member of a group (what a bus scan with drivers does), and the reverse.
        yield return Macro("bind_group", 2, s => s.UnboundOnDefault.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.UnboundOnDefault);
            foreach (var member in s.GroupOf(d)!.Members.ToArray())
                if (s.IndexOf(member) is var m and >= 0 && !s.IsBound(m) && s.Emit(new DriverBind(member)) is null) return;
        });

        yield return Macro("unbind_group", 1.5, s => s.BoundDevices.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.BoundDevices);
            var members = s.GroupOf(d)?.Members.ToArray() ?? [s.Devices[d]];
            foreach (var member in members)
                if (s.IndexOf(member) is var m and >= 0 && s.IsBound(m) && s.Emit(new DriverUnbind(member)) is null) return;
        });

        // Allocate a domain for a device and attach its group (or the device) to it.
        yield return Macro("alloc_attach", 3, s => s.Free.Count > 0 ? 1 : 0, s => AllocAttach(s, s.Pick(s.Free)));

        // Allocate a domain for a device of one instance and attach a device of another to it (another driver: the
        // core's owner check; the same driver: the driver's own refusal).
        yield return Macro("foreign_attach", 1.5, s => s.Free.Count > 0 && s.Probed.Count > 1 ? 1 : 0, s =>
        {
            var target = s.Pick(s.Free);
            var source = s.PickWhere(s.Probed, x => s.IommuOf(x) != s.IommuOf(target));
            if (source < 0) return;
            var name = s.Names.Fresh(Spaces.Domain);
            if (!Ok(s.Emit(new DomainAllocPaging(s.Devices[source], name)))) return;
            var dev = s.Devices[target];
            s.Emit(s.GroupOf(target)?.Members.Count == 1 && s.Random.Chance(0.5) ? new AttachDevice(name, dev) : new AttachGroup(name, dev));
        });

        // VFIO open: claim the group for a user, allocate a domain, attach; and close: detach, release, free.
        yield return Macro("vfio_open", 2, s => s.Claimable.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.Claimable);
            if (Claim(s, d)) AllocAttach(s, d, group: true);
        });

        yield return Macro("vfio_close", 1.5, s => s.Owned.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.Owned);
            var dev = s.Devices[d];
            var handle = s.UserDomainOf(d);
            if (handle is not null && s.Emit(new DetachGroup(handle, dev)) is null) return;
            if (s.Emit(s.Random.Chance(0.5) ? new ReleaseGroupDmaOwner(dev) : new ReleaseDmaOwner(dev)) is null) return;
            if (handle is not null) s.Emit(new DomainFree(handle));
        });

        // A device joins a live group that sits on a user domain (owned or not), then the group is detached or
        // released: the path where a member refuses the core domain (require_direct: set_domain_nofail_failed).
        yield return Macro("hot_add", 3, s => s.HotAdd.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Random.Chance(0.8) ? s.PickWhere(s.HotAdd, x => s.Spec(x).RequireDirect) : -1;
            if (d < 0) d = s.Pick(s.HotAdd);
            var peer = s.PickWhere(s.Peers[d], s.IsProbed);
            if (peer < 0) return;
            var roll = s.Random.NextDouble();
            if (roll < 0.5 && s.Claimable.Contains(peer))
            {
                if (!Claim(s, peer) || !AllocAttach(s, peer, group: true)) return;
            }
            else if (roll < 0.85 && s.UserDomainOf(peer) is null && !AllocAttach(s, peer, group: true)) return;
            if (s.Emit(new Probe(s.Devices[d])) is null || !s.Random.Chance(0.75)) return;
            var dev = s.Devices[peer];
            Outcome? warned;
            if (s.UserDomainOf(d) is { } alone && s.Random.Chance(0.3))
            {
                // Leave the joined device alone in its group, then detach it as a device.
                if (s.Emit(new Release(dev)) is null) return;
                warned = s.Emit(new DetachDevice(alone, s.Devices[d]));
                peer = d;
                dev = s.Devices[d];
            }
            else
                warned = s.UserDomainOf(peer) is { } handle ? s.Emit(new DetachGroup(handle, dev))
                    : s.GroupOf(peer)?.Owner is not null ? s.Emit(new ReleaseGroupDmaOwner(dev))
                    : null;
            // A member left behind by the refused switch is also refused its way back: look for an attach whose revert fails.
            if (warned is { Warnings.IsEmpty: false } && s.Random.Chance(0.8))
            {
                if (peer != d && s.Random.Chance(0.6) && s.IsProbed(peer)) s.Emit(new Release(dev));
                RefusedAttach(s, d);
            }
        });

        // Back to a group where a MUST_SUCCEED switch was refused: a member may still sit on the old domain; alone
        // or not, it is offered a domain it refuses, whose revert it refuses too.
        yield return Macro("revisit_refused", 3, s => s.Refused.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Pick(s.Refused);
            if (s.Random.Chance(0.7))
                foreach (var member in s.GroupOf(d)!.Members.ToArray())
                    if (member != s.Devices[d] && s.Emit(new Release(member)) is null) return;
            RefusedAttach(s, d);
        });

        // Unplug and plug back in: the group is freed (or shrinks) and rebuilt.
        yield return Macro("replug", 1, s => s.Probed.Count > 0 ? 1 : 0, s =>
        {
            var dev = s.Devices[s.Pick(s.Probed)];
            if (s.Emit(new Release(dev)) is not null) s.Emit(new Probe(dev));
        });

        // A driver bound before the IOMMU probe (no group: no owner_cnt taken; the probe warns, the unbind is
        // unbalanced later), probed alone or with its whole bus; now and then a device whose probe then fails (the
        // warning comes all the same: docs/operations.md "Late probe at driver bind").
        yield return Macro("bind_then_probe", 1.2, s => s.Fresh.Count > 0 ? 1 : 0, s =>
        {
            var d = s.Random.Chance(0.25) ? s.PickWhere(s.Fresh, x => !s.IsBound(x) && s.Peek(new Probe(s.Devices[x])).Errno is not (Errno.OK or Errno.ENODEV)) : -1;
            if (d < 0 && s.Random.Chance(0.7)) d = s.PickWhere(s.Fresh, x => !s.IsBound(x) && Unusual(s, x));
            if (d < 0) d = s.PickWhere(s.Fresh, x => !s.IsBound(x));
            if (d < 0 || s.Emit(new DriverBind(s.Devices[d])) is null) return;
            s.Emit(s.Random.Chance(0.6) ? new Probe(s.Devices[d]) : new BusProbe(s.Spec(d).Bus));
        });
    }

    /// <summary>
    /// Emits an attach of device <paramref name="d"/>'s group to a live domain whose revert the model says warns (a
    /// look-ahead over every live handle, the group and the device variant); failing that, allocates a dirty-tracking
    /// domain on a member and tries it (refused by a noDirty member).
    /// </summary>
    private static void RefusedAttach(IommuSession s, int d)
    {
        if (!s.IsProbed(d)) return;
        var dev = s.Devices[d];
        foreach (var handle in s.Live.ToArray())
            foreach (Operation op in (Operation[])[new AttachDevice(handle, dev), new AttachGroup(handle, dev)])
                if (!s.Peek(op).Warnings.IsEmpty)
                {
                    s.Emit(op);
                    return;
                }
        // A domain a member may refuse: dirty tracking (for a noDirty member), allocated for a device of the same
        // instance that is not noDirty; or allocated on another instance of the same driver.
        var iommu = s.IommuOf(d);
        if (iommu < 0) return;
        var driver = s.Topology.Iommus[iommu].Driver;
        var source = s.PickWhere(s.Probed, x => s.IommuOf(x) == iommu && !s.Spec(x).NoDirty);
        var dirty = source >= 0 && s.Random.Chance(0.5);
        if (!dirty) source = s.PickWhere(s.Probed, x => s.IommuOf(x) != iommu && s.IommuOf(x) >= 0 && s.Topology.Iommus[s.IommuOf(x)].Driver == driver);
        if (source < 0) return;
        var name = s.Names.Fresh(Spaces.Domain);
        if (!Ok(s.Emit(new DomainAllocPaging(s.Devices[source], name, dirty ? AllocFlags.DirtyTracking : null)))) return;
        foreach (Operation op in (Operation[])[new AttachDevice(name, dev), new AttachGroup(name, dev)])
            if (!s.Peek(op).Warnings.IsEmpty)
            {
                s.Emit(op);
                return;
            }
    }

    /// <summary>
    /// A device whose probe has more to decide than the plain case: it prefers a default-domain type, is untrusted or
    /// requires direct mapping, or sits behind an instance with non-default options.
    /// </summary>
    private static bool Unusual(IommuSession s, int d)
    {
        var spec = s.Spec(d);
        return spec.DefDomainType is not null || spec.Untrusted || spec.RequireDirect
            || (s.IommuOf(d) is var i and >= 0 && s.Topology.Iommus[i].Options != IommuOptions.None);
    }

    /// <summary>Claims the device's group for a user (the device or the group variant); true when OK.</summary>
    private static bool Claim(IommuSession s, int d)
    {
        var token = s.Random.Pick(ArgChooser<IommuSession>.Tokens);
        var dev = s.Devices[d];
        return Ok(s.Emit(s.Random.Chance(0.5) ? new ClaimGroupDmaOwner(dev, token) : new ClaimDmaOwner(dev, token)));
    }

    /// <summary>Allocates a fresh domain for the device and attaches it (group, or the device when alone); true when both OK.</summary>
    private static bool AllocAttach(IommuSession s, int d, bool group = false)
    {
        var dev = s.Devices[d];
        var name = s.Names.Fresh(Spaces.Domain);
        if (!Ok(s.Emit(new DomainAllocPaging(dev, name)))) return false;
        var single = !group && s.GroupOf(d)?.Members.Count == 1 && s.Random.Chance(0.5);
        return Ok(s.Emit(single ? new AttachDevice(name, dev) : new AttachGroup(name, dev)));
    }
}
