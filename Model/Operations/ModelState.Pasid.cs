using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Model.Rules;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>
/// PASID attach, replace and detach of the trace's paging domains (kernel-semantics b.10), and the worker the SVA bind
/// shares. Every entry carries an attach handle: iommufd passes one, and so does SVA.
/// </summary>
public sealed partial class ModelState
{
    /// <summary>What a PASID is set to on one device: a trace's paging domain, an SVA domain, or (both null) the blocked domain.</summary>
    private readonly record struct PasidTarget(UserDomain? User, SvaDomainState? Sva)
    {
        public static readonly PasidTarget Blocked = default;

        public bool IsBlocked => User is null && Sva is null;

        public string? Driver => User?.Driver ?? Sva?.Driver;
    }

    /// <summary>
    /// <c>attach_device_pasid {domain, dev, pasid}</c> — <c>iommu_attach_device_pasid</c>: not live → ENOENT; no group →
    /// ENODEV; then <see cref="AttachPasid"/>. On failure nothing changes (the mock's PASID-1024 injector aside).
    /// </summary>
    private ModelStep AttachDevicePasid(AttachDevicePasid op)
    {
        if (!domains.TryGetValue(op.Domain, out var domain)) return Fail(Errno.ENOENT);
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        var (errno, pasid, warnings) = AttachPasid(g, new PasidTarget(domain, null), op.Pasid, PasidEntry.User(domain.Handle, domain.Seq), Pasid);
        return errno == Errno.OK ? Ok(WithPasid(pasid), warnings) : FailPasid(errno, pasid, warnings);
    }

    /// <summary>
    /// <c>iommu_attach_device_pasid</c> once the group is known: a domain or blocked domain without <c>set_dev_pasid</c>
    /// → EOPNOTSUPP; another driver's domain, or PASID 0 → EINVAL; a member with PASIDs whose width the PASID exceeds →
    /// EINVAL (members without PASIDs are skipped throughout); the slot taken → EBUSY; then <c>set_dev_pasid</c> on every
    /// member with PASIDs, a refusal undone on the members set before it (blocked) and returned.
    /// </summary>
    private (Errno Errno, PasidState Next, string[] Warnings) AttachPasid(GroupState g, PasidTarget target, ulong pasid, PasidEntry entry, PasidState p)
    {
        var driver = DriverOf(g);
        if (!HasSetDevPasid(target.Driver!) || !HasSetDevPasid(driver.Driver)) return (Errno.EOPNOTSUPP, p, []);
        if (target.Driver != driver.Driver || pasid == PasidArgs.NoPasid) return (Errno.EINVAL, p, []);
        if (PastWidth(g, pasid)) return (Errno.EINVAL, p, []);
        if (p.ArrayOf(g.Id).ContainsKey(pasid)) return (Errno.EBUSY, p, []);
        var (errno, after, warnings) = SetGroupPasid(g, target, pasid, old: null, p);
        p = after;
        return errno == Errno.OK ? (errno, p.WithArray(g.Id, p.ArrayOf(g.Id).Add(pasid, entry)), warnings) : (errno, p, warnings);
    }

    /// <summary>
    /// <c>replace_device_pasid {domain, dev, pasid}</c> — iommufd's replace, then <c>iommu_replace_device_pasid</c>: not
    /// live → ENOENT; no group → ENODEV; a slot without an iommufd attach (empty, past the width, PASID 0, or an SVA
    /// bond's, which iommufd does not own) → EINVAL before the core is called (iommufd_device_do_replace looks its own
    /// pasid_attach up first); then EOPNOTSUPP and EINVAL as attach; the same domain → the new handle only; else every
    /// member with PASIDs is switched from the old domain, and a refusal rolls the members already switched back to the
    /// old one (a refused rollback warns and blocks): the old entry stays.
    /// </summary>
    private ModelStep ReplaceDevicePasid(ReplaceDevicePasid op)
    {
        if (!domains.TryGetValue(op.Domain, out var domain)) return Fail(Errno.ENOENT);
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        if (Pasid.ArrayOf(g.Id).GetValueOrDefault(op.Pasid) is not { IsSva: false, Handle: { } oldHandle }) return Fail(Errno.EINVAL);
        var driver = DriverOf(g);
        if (!HasSetDevPasid(domain.Driver) || !HasSetDevPasid(driver.Driver)) return Fail(Errno.EOPNOTSUPP);
        if (domain.Driver != driver.Driver || op.Pasid == PasidArgs.NoPasid) return Fail(Errno.EINVAL);
        if (PastWidth(g, op.Pasid)) return Fail(Errno.EINVAL);
        if (oldHandle == op.Domain) return Ok(this);
        var old = domains[oldHandle];
        var (errno, p, warnings) = SetGroupPasid(g, new PasidTarget(domain, null), op.Pasid, new PasidTarget(old, null), Pasid);
        if (errno != Errno.OK) return FailPasid(errno, p, warnings);
        return Ok(WithPasid(p.WithArray(g.Id, p.ArrayOf(g.Id).SetItem(op.Pasid, PasidEntry.User(domain.Handle, domain.Seq)))), warnings);
    }

    /// <summary>
    /// <c>detach_device_pasid {domain, dev, pasid}</c> — <c>iommu_detach_device_pasid</c> behind iommufd's own record: not
    /// live → ENOENT; no group → ENODEV; a slot that does not hold this domain's attach → nothing; else the PASID is
    /// blocked on every member with PASIDs and the slot erased. OK.
    /// </summary>
    private ModelStep DetachDevicePasid(DetachDevicePasid op)
    {
        if (!domains.ContainsKey(op.Domain)) return Fail(Errno.ENOENT);
        if (GroupFor(op.Dev) is not { } g) return Fail(Errno.ENODEV);
        if (Pasid.ArrayOf(g.Id).GetValueOrDefault(op.Pasid) is not { IsSva: false } entry || entry.Handle != op.Domain) return Ok(this);
        return Ok(WithPasid(RemoveGroupPasid(g, op.Pasid, Pasid)));
    }

    /// <summary><c>iommu_detach_device_pasid</c>'s work: the blocked domain on every member with PASIDs, the slot erased.</summary>
    private PasidState RemoveGroupPasid(GroupState g, ulong pasid, PasidState p)
    {
        foreach (var dev in MemberSpecs(g))
            if (MaxPasidsOf(dev) > 0) SetDevPasid(g, DriverOf(g), dev, PasidTarget.Blocked, pasid, ref p);
        return p.WithArray(g.Id, p.ArrayOf(g.Id).Remove(pasid));
    }

    /// <summary>
    /// <c>__iommu_set_group_pasid</c>: <c>set_dev_pasid</c> on each member with PASIDs in order; on a refusal, the members
    /// before it go back to <paramref name="old"/> (a refusal of that warns) or, without one, to the blocked domain.
    /// </summary>
    private (Errno Errno, PasidState Next, string[] Warnings) SetGroupPasid(
        GroupState g, PasidTarget target, ulong pasid, PasidTarget? old, PasidState p)
    {
        var driver = DriverOf(g);
        var members = MemberSpecs(g).Where(d => MaxPasidsOf(d) > 0).ToList();
        for (var i = 0; i < members.Count; i++)
        {
            var errno = SetDevPasid(g, driver, members[i], target, pasid, ref p, withOld: old is not null);
            if (errno == Errno.OK) continue;
            var warnings = new List<string>();
            for (var j = 0; j < i; j++)
            {
                if (old is { } back && SetDevPasid(g, driver, members[j], back, pasid, ref p, withOld: true) == Errno.OK) continue;
                if (old is not null) warnings.Add(Warn.SetDevPasidRevertFailed);
                SetDevPasid(g, driver, members[j], PasidTarget.Blocked, pasid, ref p);
            }
            return (errno, p, [.. warnings]);
        }
        return (Errno.OK, p, []);
    }

    /// <summary>
    /// One driver's <c>set_dev_pasid</c>: the blocked domain always takes; a paging domain as the driver's attach rule says
    /// (another instance's where domains are per instance, dirty tracking on a noDirty device → EINVAL); an SVA domain of
    /// another instance where domains are per instance → EINVAL. On a driver that reads its PASID entry
    /// (<see cref="DriverCapabilities.PasidEntryStrict"/>, scalable vtd), a non-blocked set with an old domain
    /// (<paramref name="withOld"/>: replace, or a rollback to the old one) finds no entry → EINVAL
    /// (intel_pasid_replace_*), one without finds an entry → EBUSY (intel_pasid_setup_*). On smmuv3 and a scalable VT-d
    /// unit, the PASID table and its leaf (<see cref="TakePasidTable"/>). Then the mock's PASID-1024 injector. What it set is the device's entry at
    /// the PASID (<see cref="PasidState.DevHw"/>; the blocked domain removes it).
    /// </summary>
    private Errno SetDevPasid(GroupState g, DriverFacts driver, DeviceSpec dev, PasidTarget target, ulong pasid, ref PasidState p, bool withOld = false)
    {
        var errno = target switch
        {
            { User: { } user } => driver.AttachUserDomain(user, dev),
            { Sva: { } sva } when driver.Caps.DomainPerInstance && sva.Iommu != dev.Iommu => Errno.EINVAL,
            _ => Errno.OK,
        };
        if (errno == Errno.OK && !target.IsBlocked && driver.Caps.PasidLeafSite is not null) errno = TakePasidTable(g, driver.Caps, dev, pasid, ref p);
        if (errno == Errno.OK && driver.Caps.PasidEntryStrict && !target.IsBlocked)
        {
            var present = p.DevHw.GetValueOrDefault(dev.Name)?.ContainsKey(pasid) == true;
            if (withOld && !present) errno = Errno.EINVAL;
            else if (!withOld && present) errno = Errno.EBUSY;
        }
        if (errno == Errno.OK && driver.Caps.PasidFaultInjector && pasid == DriverCapabilities.InjectorPasid)
        {
            var armed = p.Armed;
            if (target.IsBlocked) armed = armed.Remove(dev.Name);
            else if (armed.Contains(dev.Name))
            {
                armed = armed.Remove(dev.Name);
                errno = Errno.ENOMEM;
            }
            else armed = armed.Add(dev.Name);
            p = p with { Armed = armed };
        }
        if (errno != Errno.OK) return errno;
        p = p.WithDevHw(dev.Name, pasid, target switch
        {
            { User: { } u } => new PasidHw(u.Handle, u.Seq, -1),
            { Sva: { } sva } => new PasidHw(null, -1, sva.Id),
            _ => null,
        });
        return Errno.OK;
    }

    /// <summary>
    /// A set's PASID-table allocations (smmuv3's arm_smmu_alloc_cd_ptr, VT-d's intel_pasid_get_entry): the device's table
    /// when no attach made it since its probe (smmuv3's CD table for any PASID; VT-d's first leaf, the RID's, for a PASID
    /// of the first slot), then, where the device has more PASIDs than a leaf holds, the leaf of <paramref name="pasid"/>
    /// past the first at its first use; either refused (smmuv3 -ENOMEM, VT-d's setup -ENODEV) where the injected failure
    /// meets it. What was made is kept whatever follows
    /// (<see cref="PasidState.TableLeaves"/>), so a failed leaf leaves the table made.
    /// </summary>
    private Errno TakePasidTable(GroupState g, DriverCapabilities caps, DeviceSpec dev, ulong pasid, ref PasidState p)
    {
        var leaves = p.TableLeaves.GetValueOrDefault(dev.Name) ?? [];
        var made = leaves;
        var errno = Errno.OK;
        var leaf = MaxPasidsOf(dev) > 1 << caps.PasidLeafBits ? pasid >> caps.PasidLeafBits : 0;
        // the table (smmuv3: any set needs it) or its first leaf (VT-d: a PASID of the first slot), where no attach made it
        var tableSites = leaf == 0 ? caps.FirstPagingAttachSites.AddRange(caps.FirstEntrySites) : caps.FirstPagingAttachSites;
        if (!tableSites.IsEmpty && !HasPasidTable(g, dev.Name, p))
        {
            if (tableSites.Any(site => MeetsInjected(dev.Name, site))) return caps.PasidLeafErrno;
            made = made.Add(0);
        }
        if (leaf != 0 && !made.Contains(leaf))
        {
            if (MeetsInjected(dev.Name, caps.PasidLeafSite!)) errno = caps.PasidLeafErrno;
            else made = made.Add(leaf);
        }
        if (!ReferenceEquals(made, leaves)) p = p.WithTableLeaves(dev.Name, made);
        return errno;
    }

    /// <summary>
    /// The device's driver has its PASID table (smmuv3's CD table, a scalable VT-d device's first PASID table): made by a
    /// first attach since its probe (<see cref="GroupState.PagingAttached"/>), or at a set.
    /// </summary>
    private static bool HasPasidTable(GroupState g, string dev, PasidState p) =>
        g.PagingAttached.Contains(dev) || p.TableLeaves.GetValueOrDefault(dev)?.Contains(0) == true;

    /// <summary>The driver's domains and blocked domain have <c>set_dev_pasid</c> (the driver table's, whatever the instance's options).</summary>
    private static bool HasSetDevPasid(string driver) => DriverCapabilities.For(driver)?.Paging.Pasid == true;

    /// <summary>Some member with PASIDs is narrower than <paramref name="pasid"/>.</summary>
    private bool PastWidth(GroupState g, ulong pasid) =>
        MemberSpecs(g).Any(d => MaxPasidsOf(d) is var max and > 0 && pasid >= (ulong)max);

    /// <summary><c>dev->iommu->max_pasids</c>: the device's width within its instance's, 0 where the instance has no PASIDs.</summary>
    public int MaxPasidsOf(DeviceSpec dev) =>
        machine.Driver(dev.Iommu) is { Caps.Paging.Pasid: true } ? Math.Min(dev.MaxPasids, DriverCapabilities.InstanceMaxPasids) : 0;

    private ModelState WithPasid(PasidState pasid) =>
        ReferenceEquals(pasid, Pasid) ? this : With(pasid: pasid);

    /// <summary>A failed PASID step: this state, unless it moved the mock's injector or left a PASID allocated (c.10 leftovers).</summary>
    private ModelStep FailPasid(Errno errno, PasidState after, IEnumerable<string> warnings) =>
        after.Equals(Pasid) ? Fail(errno, warnings) : new(new Outcome(errno, null, [.. warnings]), WithPasid(after));
}
