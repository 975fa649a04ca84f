using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>
/// Process address spaces and SVA binds (kernel-semantics a.7, b.11): <c>mm_new</c>, <c>mm_exit</c>, <c>sva_bind</c>,
/// <c>sva_unbind</c>, <c>sva_get_pasid</c>. A PASID comes from the global IDA at an mm's first bind (the lowest free
/// one in [1, max_pasids − 1] of the binding device) and stays with the mm until the mm itself goes.
/// </summary>
public sealed partial class ModelState
{
    /// <summary><c>mm_new {as}</c>: a live name → EEXIST; else a new mm, no PASID yet. OK.</summary>
    private ModelStep MmNew(MmNew op)
    {
        if (Pasid.MmNames.ContainsKey(op.As)) return Fail(Errno.EEXIST);
        var p = Pasid;
        var mm = new MmState(p.NextId, null, false, []);
        return Ok(WithPasid(p with { MmNames = p.MmNames.Add(op.As, mm.Id), Mms = p.Mms.Add(mm.Id, mm), NextId = p.NextId + 1 }));
    }

    /// <summary>
    /// <c>mm_exit {mm}</c>: not live → ENOENT; else the name is dead, and the mm (with its PASID) goes now if no SVA
    /// domain holds it, or with its last SVA domain. OK.
    /// </summary>
    private ModelStep MmExit(MmExit op)
    {
        if (!Pasid.MmNames.TryGetValue(op.Mm, out var id)) return Fail(Errno.ENOENT);
        var p = Pasid with { MmNames = Pasid.MmNames.Remove(op.Mm) };
        return Ok(WithPasid(DropIfUnused(p, p.Mms[id] with { Exited = true, Mappings = DomainMappings.Empty })));
    }

    /// <summary>
    /// <c>mm_map {mm, va, paddr, size, prot}</c> — the process maps memory and touches it (its CPU page table gets 4 KiB
    /// pages): not live → ENOENT; a prot with an unknown or repeated letter, or neither <c>r</c> nor <c>w</c> → EINVAL;
    /// va, paddr or size not 4 KiB-aligned, size 0, a wrap, va or paddr past 2^48 → EINVAL; a page already mapped →
    /// EEXIST (nothing mapped). OK. No invalidation is needed: nothing not present is cached on this path.
    /// </summary>
    private ModelStep MmMap(MmMap op)
    {
        if (!Pasid.MmNames.TryGetValue(op.Mm, out var id)) return Fail(Errno.ENOENT);
        if (!ProtFlags.TryParse(op.Prot, out var prot) || (prot & (ProtFlags.ReadBit | ProtFlags.WriteBit)) == 0) return Fail(Errno.EINVAL);
        const ulong page = Args.PageAlign;
        if (((op.Va | op.Paddr | op.Size) & (page - 1)) != 0 || op.Size == 0) return Fail(Errno.EINVAL);
        if (op.Va + op.Size < op.Va || op.Va + op.Size > PasidArgs.TaskSize || op.Paddr + op.Size < op.Paddr || op.Paddr + op.Size > PasidArgs.TaskSize)
            return Fail(Errno.EINVAL);
        var mm = Pasid.Mms[id];
        if (mm.Mappings.Overlapping(op.Va, op.Va + op.Size).Any()) return Fail(Errno.EEXIST);
        var run = new Run(op.Va, op.Size, op.Paddr, prot & (ProtFlags.ReadBit | ProtFlags.WriteBit), page);
        return Ok(WithPasid(Pasid with { Mms = Pasid.Mms.SetItem(id, mm with { Mappings = mm.Mappings.Add(run) }) }));
    }

    /// <summary>An exited mm no SVA domain holds any more goes with its PASID (mm_pasid_drop); else it is stored.</summary>
    private static PasidState DropIfUnused(PasidState p, MmState mm) =>
        mm.Exited && mm.Domains.IsEmpty
            ? p with { Mms = p.Mms.Remove(mm.Id), UsedPasids = mm.Pasid is { } pasid ? p.UsedPasids.Remove(pasid) : p.UsedPasids }
            : p with { Mms = p.Mms.SetItem(mm.Id, mm) };

    /// <summary>
    /// <c>sva_bind {dev, mm, as}</c> — <c>iommu_sva_bind_device</c>: <c>as</c> live → EEXIST; mm not live → ENOENT; no
    /// group → ENODEV. The mm's PASID: one it has already at or past the device's width → EOVERFLOW; else the lowest free
    /// global PASID below the width (none, or no PASIDs → ENOSPC), kept whatever follows. The group's slot: an SVA bond
    /// of this mm → shared (refcount + 1); of another mm, or another attach → EBUSY. Else a new bond on the first of the
    /// mm's SVA domains that attaches (refusals ignored), or on a new SVA domain (none without
    /// <c>domain_alloc_sva</c> → EOPNOTSUPP) whose attach's refusal is returned.
    /// </summary>
    private ModelStep SvaBind(SvaBind op)
    {
        if (Pasid.Handles.ContainsKey(op.As)) return Fail(Errno.EEXIST);
        if (!Pasid.MmNames.TryGetValue(op.Mm, out var mmId)) return Fail(Errno.ENOENT);
        if (GroupFor(op.Dev) is not { } g || machine.Device(op.Dev) is not { } dev) return Fail(Errno.ENODEV);
        var p = Pasid;
        var mm = p.Mms[mmId];
        var max = (ulong)MaxPasidsOf(dev);
        if (mm.Pasid is { } had)
        {
            if (had >= max) return Fail(Errno.EOVERFLOW);
        }
        else
        {
            if (MeetsInjected(op.Dev, Warn.FaultSites.IommuMmData)) return Fail(Errno.ENOMEM);
            if (LowestFreePasid(p.UsedPasids, max) is not { } fresh) return Fail(Errno.ENOSPC);
            mm = mm with { Pasid = fresh };
            p = p with { Mms = p.Mms.SetItem(mm.Id, mm), UsedPasids = p.UsedPasids.Add(fresh) };
        }
        var pasid = mm.Pasid!.Value;

        // iommu_attach_handle_get(group, pasid, IOMMU_DOMAIN_SVA)
        if (p.ArrayOf(g.Id).GetValueOrDefault(pasid) is { } entry)
        {
            if (!entry.IsSva || p.Domains[p.Bonds[entry.Bond].Domain].Mm != mm.Id) return FailPasid(Errno.EBUSY, p, []);
            var shared = p.Bonds[entry.Bond];
            return Ok(WithPasid(p with { Bonds = p.Bonds.SetItem(shared.Id, shared with { Users = shared.Users + 1 }), Handles = p.Handles.Add(op.As, shared.Id) }));
        }

        if (MeetsInjected(op.Dev, Warn.FaultSites.SvaBond)) return FailPasid(Errno.ENOMEM, p, []);
        var bond = new BondState(p.NextId, g.Id, pasid, -1, op.Dev, 1);
        p = p with { NextId = p.NextId + 1 };
        foreach (var id in mm.Domains)
        {
            var existing = p.Domains[id];
            var (errno, tried, _) = AttachPasid(g, new PasidTarget(null, existing), pasid, PasidEntry.Sva(bond.Id), p);
            if (errno != Errno.OK)
            {
                p = p with { Armed = tried.Armed, DevHw = tried.DevHw, TableLeaves = tried.TableLeaves };
                continue;
            }
            tried = tried with { Domains = tried.Domains.SetItem(id, existing with { Users = existing.Users + 1 }) };
            return Ok(WithPasid(AddBond(tried, bond with { Domain = id }, op.As)));
        }

        var driver = DriverOf(g);
        if (!driver.Caps.Sva) return FailPasid(Errno.EOPNOTSUPP, p with { NextId = Pasid.NextId }, []);
        if (MeetsInjected(op.Dev, Warn.FaultSites.Domain)) return FailPasid(Errno.ENOMEM, p with { NextId = Pasid.NextId }, []);
        var domain = new SvaDomainState(p.NextId, mm.Id, driver.Driver, driver.Instance, 1);
        var (attached, after, warnings) = AttachPasid(g, new PasidTarget(null, domain), pasid, PasidEntry.Sva(bond.Id), p with { NextId = p.NextId + 1 });
        if (attached != Errno.OK) return FailPasid(attached, after with { NextId = Pasid.NextId }, warnings);
        after = after with { Domains = after.Domains.Add(domain.Id, domain), Mms = after.Mms.SetItem(mm.Id, mm with { Domains = mm.Domains.Insert(0, domain.Id) }) };
        return Ok(WithPasid(AddBond(after, bond with { Domain = domain.Id }, op.As)), warnings);
    }

    private static PasidState AddBond(PasidState p, BondState bond, string name) =>
        p with { Bonds = p.Bonds.Add(bond.Id, bond), Handles = p.Handles.Add(name, bond.Id) };

    /// <summary><c>ida_alloc_range(1, max − 1)</c>: the lowest PASID not in use, or null.</summary>
    private static ulong? LowestFreePasid(ImmutableSortedSet<ulong> used, ulong max)
    {
        var candidate = 1UL;
        foreach (var u in used)
        {
            if (u > candidate) break;
            if (u == candidate) candidate++;
        }
        return candidate < max ? candidate : null;
    }

    /// <summary>
    /// <c>sva_unbind {handle}</c> — <c>iommu_sva_unbind_device</c>: not live → ENOENT; else the name is dead and the bond
    /// loses a reference; at none the PASID is detached from the group, the domain loses a user (at none it is freed,
    /// and an exited mm without domains goes with its PASID) and the bond is freed. OK.
    /// </summary>
    private ModelStep SvaUnbind(SvaUnbind op)
    {
        if (!Pasid.Handles.TryGetValue(op.Handle, out var id)) return Fail(Errno.ENOENT);
        var p = Pasid with { Handles = Pasid.Handles.Remove(op.Handle) };
        var bond = p.Bonds[id];
        if (bond.Users > 1) return Ok(WithPasid(p with { Bonds = p.Bonds.SetItem(id, bond with { Users = bond.Users - 1 }) }));
        return Ok(WithPasid(FreeBond(p, bond)));
    }

    /// <summary>The last reference of a bond goes: detach, domain users − 1, the domain and an exited mm freed when unused.</summary>
    private PasidState FreeBond(PasidState p, BondState bond)
    {
        if (groups.TryGetValue(bond.Group, out var g)) p = RemoveGroupPasid(g, bond.Pasid, p);
        else p = p.WithArray(bond.Group, p.ArrayOf(bond.Group).Remove(bond.Pasid));
        p = p with { Bonds = p.Bonds.Remove(bond.Id) };
        var domain = p.Domains[bond.Domain];
        if (domain.Users > 1) return p with { Domains = p.Domains.SetItem(domain.Id, domain with { Users = domain.Users - 1 }) };
        var mm = p.Mms[domain.Mm];
        p = p with { Domains = p.Domains.Remove(domain.Id) };
        return DropIfUnused(p, mm with { Domains = mm.Domains.Remove(domain.Id) });
    }

    /// <summary><c>sva_get_pasid {handle}</c> — <c>iommu_sva_get_pasid</c>: not live → ENOENT; else the bond's mm's PASID.</summary>
    private ModelStep SvaGetPasid(SvaGetPasid op)
    {
        if (!Pasid.Handles.TryGetValue(op.Handle, out var id)) return Fail(Errno.ENOENT);
        var mm = Pasid.Mms[Pasid.Domains[Pasid.Bonds[id].Domain].Mm];
        return new(Outcome.OkWith(OutcomeValues.Number(mm.Pasid!.Value)), this);
    }

    /// <summary>
    /// Before the last member of a group is released, its PASID users go as the removed driver and iommufd would take
    /// them down (docs/pasid-sva.md): each SVA bond with all its references, each iommufd attach detached.
    /// </summary>
    private ModelState WithoutPasidsOf(GroupState g)
    {
        var array = Pasid.ArrayOf(g.Id);
        if (array.IsEmpty || g.Members.Count != 1) return this;
        var p = Pasid;
        foreach (var (pasid, entry) in array)
        {
            if (!entry.IsSva)
            {
                p = RemoveGroupPasid(g, pasid, p);
                continue;
            }
            var bond = p.Bonds[entry.Bond];
            p = p with { Handles = p.Handles.RemoveRange(p.Handles.Where(h => h.Value == bond.Id).Select(h => h.Key).ToList()) };
            p = FreeBond(p, bond);
        }
        return WithPasid(p);
    }

    /// <summary>The group has PASIDs attached (<c>!xa_empty(&amp;group->pasid_array)</c>).</summary>
    private bool HasPasids(GroupState g) => Pasid.Arrays.ContainsKey(g.Id);
}
