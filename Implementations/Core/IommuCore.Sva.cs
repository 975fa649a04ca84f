using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations.Core;

/// <summary>
/// Shared virtual addressing (iommu-sva.c, 7.0 shape): the global PASID IDA, mm data, bonds found through the group's
/// PASID array (one per group and PASID, refcounted), SVA domains shared by the mm's bonds. iommu_sva_lock nests
/// outside every group mutex.
/// </summary>
public sealed partial class IommuCore
{
    /// <summary>IOMMU_FIRST_GLOBAL_PASID.</summary>
    public const uint FirstGlobalPasid = 1;

    /// <summary>IOMMU_PASID_INVALID.</summary>
    public const uint PasidInvalid = uint.MaxValue;

    private readonly Lock _svaLock = new();                 // iommu_sva_lock
    private readonly SortedSet<uint> _globalPasidIda = [];  // iommu_global_pasid_ida
    private readonly List<MmStruct> _svaMms = [];           // iommu_sva_mms

    /// <summary>iommu_alloc_global_pasid() - the lowest free PASID in [1, max_pasids − 1], or IOMMU_PASID_INVALID.</summary>
    public uint AllocGlobalPasid(Device dev)
    {
        var max = (uint)(dev.Iommu?.MaxPasids ?? 0);
        if (max == 0) return PasidInvalid;
        lock (_globalPasidIda)
        {
            var pasid = FirstGlobalPasid;
            while (_globalPasidIda.Contains(pasid)) pasid++;
            if (pasid >= max) return PasidInvalid;
            _globalPasidIda.Add(pasid);
            return pasid;
        }
    }

    /// <summary>iommu_free_global_pasid().</summary>
    public void FreeGlobalPasid(uint pasid)
    {
        lock (_globalPasidIda) _globalPasidIda.Remove(pasid);
    }

    /// <summary>The PASIDs the global IDA has handed out (checks and tests).</summary>
    public IReadOnlyList<uint> GlobalPasids()
    {
        lock (_globalPasidIda) return [.. _globalPasidIda];
    }

    /// <summary>The mms on the global SVA list (checks and tests).</summary>
    public IReadOnlyList<MmStruct> SvaMms()
    {
        lock (_svaLock) return [.. _svaMms];
    }

    // iommu_alloc_mm_data(): the mm's PASID, allocated at its first bind and kept whatever follows.
    private Errno AllocMmDataLocked(MmStruct mm, Device dev)
    {
        if (!_svaLock.IsHeldByCurrentThread) throw new InvalidOperationException($"{nameof(AllocMmDataLocked)}: iommu_sva_lock is not held");
        if (mm.IommuMm is { } data) return data.Pasid >= (uint)dev.Iommu!.MaxPasids ? EOVERFLOW : OK;
        if (AllocFails(Warn.FaultSites.IommuMmData, dev)) return ENOMEM;   // kzalloc of the iommu_mm_data
        var pasid = AllocGlobalPasid(dev);
        if (pasid == PasidInvalid) return ENOSPC;
        mm.IommuMm = new IommuMmData(pasid);
        return OK;
    }

    /// <summary>
    /// iommu_sva_bind_device() - bind <paramref name="mm"/> to <paramref name="dev"/>. Return: -ENODEV without a group;
    /// the mm data's -EOVERFLOW / -ENOSPC; -EBUSY when the PASID holds another mm's bond or another attach; the fresh
    /// SVA domain's allocation or attach errno. A bond already on the group is shared (one more reference).
    /// </summary>
    public Errno SvaBindDevice(Device dev, MmStruct mm, out IommuSva? bond)
    {
        bond = null;
        var group = dev.Group;
        if (group is null) return ENODEV;
        lock (_svaLock)
        {
            var ret = AllocMmDataLocked(mm, dev);
            if (ret != OK) return ret;
            var pasid = mm.IommuMm!.Pasid;

            // A bond already exists: take a reference.
            ret = AttachHandleGet(group, pasid, DomainType.Sva, out var found);
            if (ret == OK)
            {
                if (found!.Domain is not SvaDomain { Mm: var owner } || owner != mm) return EBUSY;
                bond = (IommuSva)found;
                bond.Users++;
                Touched.Group(group.Id);   // the slot's handle changed
                return OK;
            }
            if (ret != ENOENT) return ret;

            if (AllocFails(Warn.FaultSites.SvaBond, dev)) return ENOMEM;   // kzalloc of the bond; the mm keeps its PASID
            var handle = new IommuSva(dev, group);
            // Search for an existing domain; its errors are not the bind's.
            foreach (var existing in mm.IommuMm.SvaDomains)
            {
                // Seeded bug sva_bond_not_recorded: the reused domain is attached without the bond's handle.
                var recorded = Bugs.IsOn(BugCatalogue.SvaBondNotRecorded) ? null : handle;
                if (AttachDevicePasid(existing, dev, pasid, recorded) != OK) continue;
                handle.Domain = existing;
                existing.Users++;
                return Bound(handle, out bond);
            }

            ret = SvaDomainAlloc(dev, mm, out var domain);
            if (ret != OK) return ret;
            ret = AttachDevicePasid(domain!, dev, pasid, handle);
            if (ret != OK)
            {
                DomainFree(domain!);
                return ret;
            }
            domain!.Users = 1;
            if (mm.IommuMm.SvaDomains.Count == 0) _svaMms.Add(mm);
            mm.IommuMm.SvaDomains.Insert(0, domain);
            return Bound(handle, out bond);
        }
    }

    private static Errno Bound(IommuSva handle, out IommuSva? bond)
    {
        handle.Users = 1;
        bond = handle;
        return OK;
    }

    // iommu_sva_domain_alloc(): the driver's SVA domain, owned by its ops, holding the mm (mmgrab).
    private Errno SvaDomainAlloc(Device dev, MmStruct mm, out SvaDomain? domain)
    {
        domain = null;
        var ops = dev.Iommu!.IommuDev.Ops;
        if (!ops.HasDomainAllocSva) return EOPNOTSUPP;
        var ret = ops.DomainAllocSva(dev, mm, out var allocated);
        if (ret != OK) return ret;
        domain = (SvaDomain)allocated!;
        // Seeded bug sva_domain_no_owner: the owner token is not set (before "iommu: Set owner token to SVA domain").
        if (!Bugs.IsOn(BugCatalogue.SvaDomainNoOwner)) domain.Owner = ops.Owner;
        mm.Count++;
        TrackDomain(domain);
        return OK;
    }

    /// <summary>
    /// iommu_sva_unbind_device() - drop one reference of the bond; the last detaches the PASID, drops a user of the
    /// domain (the last frees it, and its mm reference) and takes the mm off the SVA list when it has no domain left.
    /// </summary>
    public void SvaUnbindDevice(IommuSva bond)
    {
        lock (_svaLock)
        {
            if (--bond.Users > 0)
            {
                Touched.Group(bond.Group.Id);
                return;
            }
            var domain = (SvaDomain)bond.Domain!;
            var mm = domain.Mm;
            var data = mm.IommuMm!;
            // iommu_detach_device_pasid(domain, dev, pasid), through the group the bond was made on
            DetachDevicePasid(domain, bond.Group, data.Pasid);
            // Seeded bug pasid_freed_on_unbind: the mm's PASID goes back to the IDA with the bond.
            if (Bugs.IsOn(BugCatalogue.PasidFreedOnUnbind)) FreeGlobalPasid(data.Pasid);
            if (--domain.Users == 0)
            {
                data.SvaDomains.Remove(domain);
                DomainFree(domain);
            }
            if (data.SvaDomains.Count == 0) _svaMms.Remove(mm);
        }
    }

    /// <summary>iommu_sva_get_pasid() - the PASID of the bond's mm.</summary>
    public static uint SvaGetPasid(IommuSva bond) => ((SvaDomain)bond.Domain!).Mm.IommuMm!.Pasid;

    /// <summary>The process exits: mmput of its last user, then its own mmdrop.</summary>
    public void MmExit(MmStruct mm)
    {
        mm.Users = 0;
        // exit_mmap: the pages go; each SVA domain's secondary TLBs are told (arch_invalidate_secondary_tlbs)
        mm.PageTable?.Clear();
        lock (_svaLock)
            foreach (var domain in mm.IommuMm?.SvaDomains ?? [])
                domain.Ops.InvalidateSecondaryTlbs(domain);
        MmDrop(mm);
    }

    // mmdrop(): the last reference runs __mmdrop → mm_pasid_drop.
    private void MmDrop(MmStruct mm)
    {
        if (--mm.Count > 0) return;
        if (mm.IommuMm is { } data) FreeGlobalPasid(data.Pasid);
        mm.IommuMm = null;
        mm.PageTable?.Free();   // __mmdrop: free_pgtables, pgd_free
        mm.PageTable = null;
    }

    /// <summary>
    /// c.20 on this core's objects, or null: every bond in a PASID slot holds a reference, an SVA domain's users are the
    /// slots on it, and an mm is on the SVA list exactly while it has SVA domains.
    /// </summary>
    public string? SvaRefcountProblem()
    {
        var slots = new Dictionary<SvaDomain, int>(ReferenceEqualityComparer.Instance);
        foreach (var group in LiveGroups())
            foreach (var (pasid, entry) in PasidEntries(group))
            {
                if (entry.Handle is IommuSva { Users: < 1 } dead) return $"{group} PASID {pasid}: a bond with {dead.Users} references";
                if (entry.Domain is SvaDomain sva) slots[sva] = slots.GetValueOrDefault(sva) + 1;
            }
        var mms = SvaMms();
        foreach (var domain in LiveDomains().OfType<SvaDomain>())
        {
            if (domain.Users != slots.GetValueOrDefault(domain))
                return $"{domain} has users {domain.Users} but {slots.GetValueOrDefault(domain)} PASID slot(s)";
            if (!mms.Contains(domain.Mm)) return $"{domain.Mm} has SVA domain {domain} but is not on the SVA list";
        }
        foreach (var mm in mms)
            if (mm.IommuMm is not { SvaDomains.Count: > 0 }) return $"{mm} is on the SVA list without SVA domains";
        return null;
    }

    /// <summary>What SVA leaves behind: live SVA domains, allocated global PASIDs, mms on the SVA list.</summary>
    public (int Domains, int Pasids, int Mms) SvaLeftovers() =>
        (LiveDomains().OfType<SvaDomain>().Count(), GlobalPasids().Count, SvaMms().Count);
}
