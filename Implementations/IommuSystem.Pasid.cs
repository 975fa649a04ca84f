using IommuConformance.Contract;
using IommuConformance.Implementations.Adapter;
using IommuConformance.Implementations.Core;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations;

/// <summary>
/// The PASID and SVA operations: iommufd's PASID attach path (an attach handle per attach; only its own attaches
/// replaced or detached) and the test driver that owns processes and binds them (docs/pasid-sva.md).
/// </summary>
public sealed partial class IommuSystem
{
    private readonly SvaNames _sva = new();

    private Outcome DispatchPasid(Operation op) => op switch
    {
        MmNew m => MmNew(m),
        MmExit m => MmExit(m),
        MmMap m => MmMap(m),
        SvaBind b => SvaBind(b),
        SvaUnbind u => SvaUnbind(u),
        SvaGetPasid g => _sva.Bond(g.Handle) is { } bond ? Outcome.OkWith(OutcomeValues.Number(IommuCore.SvaGetPasid(bond))) : Outcome.Of(ENOENT),
        AttachDevicePasid a => WithDomain(a.Domain, d => WithDevice(a.Dev, dev => Outcome.Of(_core.AttachDevicePasid(d, dev, (uint)a.Pasid, new IommufdPasidAttach())))),
        ReplaceDevicePasid r => WithDomain(r.Domain, d => WithGroup(r.Dev, group => ReplaceDevicePasid(d, r, group))),
        DetachDevicePasid x => WithDomain(x.Domain, d => WithGroup(x.Dev, group => DetachDevicePasid(d, group, (uint)x.Pasid))),
        _ => throw new NotSupportedException($"the implementation has no handler for operation '{op.Name}' ({op.GetType().Name})"),
    };

    // A process: its mm with an empty CPU page table (pgd_alloc) in each format the machine's IOMMUs walk.
    private Outcome MmNew(MmNew op)
    {
        if (!_sva.TryAddMm(op.As, out var mm)) return Outcome.Of(EEXIST);
        if (CpuPageTable.Create(_platform.Allocator, MmFormats, out var table) is var r && r != OK)
        {
            _sva.RemoveMm(op.As);   // fork's -ENOMEM: no process
            return Outcome.Of(r);
        }
        mm.PageTable = table;
        return Outcome.Ok;
    }

    // x86-64 where a VT-d unit may walk the mm (first level), arm64 where an SMMU may (or where neither does: a default).
    private CpuFormats MmFormats =>
        (_platform.Iommus.Any(h => h is Hardware.Vtd.VtdHardware) ? CpuFormats.X86 : 0)
        | (_platform.Iommus.Any(h => h is Hardware.Smmuv3.Smmuv3Hardware) || !_platform.Iommus.Any(h => h is Hardware.Vtd.VtdHardware) ? CpuFormats.Arm64 : 0);

    // The process maps and touches memory: 4 KiB pages in its CPU page table (the checks of mmap with MAP_FIXED_NOREPLACE).
    private Outcome MmMap(MmMap op)
    {
        if (_sva.Mm(op.Mm) is not { PageTable: { } table }) return Outcome.Of(ENOENT);
        if (PageTable.IommuProtNames.TryParse(op.Prot, out var prot) != OK
            || (prot & (PageTable.IommuProt.Read | PageTable.IommuProt.Write)) == 0) return Outcome.Of(EINVAL);
        if (((op.Va | op.Paddr | op.Size) & 0xFFF) != 0 || op.Size == 0) return Outcome.Of(EINVAL);
        if (op.Va + op.Size < op.Va || op.Va + op.Size > PasidArgs.TaskSize || op.Paddr + op.Size < op.Paddr || op.Paddr + op.Size > PasidArgs.TaskSize)
            return Outcome.Of(EINVAL);
        if (table.Overlaps(op.Va, op.Size)) return Outcome.Of(EEXIST);
        return Outcome.Of(table.Map(op.Va, op.Paddr, op.Size, prot & (PageTable.IommuProt.Read | PageTable.IommuProt.Write)));
    }

    private Outcome MmExit(MmExit op)
    {
        if (_sva.RemoveMm(op.Mm) is not { } mm) return Outcome.Of(ENOENT);
        _core.MmExit(mm);
        return Outcome.Ok;
    }

    // The name must be free, the mm live; the bind answers; the name then holds the (maybe shared) bond.
    private Outcome SvaBind(SvaBind op)
    {
        if (_sva.IsBondLive(op.As)) return Outcome.Of(EEXIST);
        if (_sva.Mm(op.Mm) is not { } mm) return Outcome.Of(ENOENT);
        return WithDevice(op.Dev, dev =>
        {
            var ret = _core.SvaBindDevice(dev, mm, out var bond);
            if (ret == OK) _sva.AddBond(op.As, bond!);
            return Outcome.Of(ret);
        });
    }

    private Outcome SvaUnbind(SvaUnbind op)
    {
        if (_sva.RemoveBond(op.Handle) is not { } bond) return Outcome.Of(ENOENT);
        _core.SvaUnbindDevice(bond);
        return Outcome.Ok;
    }

    // iommufd_device_do_replace: iommufd replaces only a PASID it attached, and looks its own record up before calling the
    // core: an empty slot or another's (an SVA bond's) is -EINVAL to it, whatever the domain's ops.
    private Outcome ReplaceDevicePasid(IommuDomain domain, ReplaceDevicePasid op, IommuGroup group)
    {
        var pasid = (uint)op.Pasid;
        if (_core.PasidEntry(group, pasid) is not { Handle: IommufdPasidAttach }) return Outcome.Of(EINVAL);
        return Outcome.Of(_core.ReplaceDevicePasid(domain, _devicesByName[op.Dev], pasid, new IommufdPasidAttach()));
    }

    // iommufd detaches only its own attach of this domain; anything else is nothing to detach.
    private Outcome DetachDevicePasid(IommuDomain domain, IommuGroup group, uint pasid)
    {
        if (_core.PasidEntry(group, pasid) is { Handle: IommufdPasidAttach } entry && entry.Domain == domain)
            _core.DetachDevicePasid(domain, group, pasid);
        return Outcome.Ok;
    }

    // Before the last member of a group goes, its PASID users take their PASIDs down: the removed driver unbinds every
    // reference of its bonds, iommufd detaches its attaches.
    private void ReleasePasidUsers(Device dev)
    {
        var group = _core.GroupGet(dev);
        if (group is null) return;
        try
        {
            lock (group.Mutex)
                if (group.Devices.Count != 1) return;
            foreach (var (pasid, entry) in _core.PasidEntries(group))
            {
                if (entry.Handle is IommuSva bond)
                    foreach (var _ in _sva.RemoveAll(bond)) _core.SvaUnbindDevice(bond);
                else _core.DetachDevicePasid(entry.Domain, group, pasid);
            }
        }
        finally
        {
            _core.GroupPut(group);
        }
    }

    /// <summary>c.20 inside the core (<see cref="IommuCore.SvaRefcountProblem"/>), or null.</summary>
    public string? SvaRefcountProblem() => _core.SvaRefcountProblem();

    /// <summary>Live SVA domains, allocated global PASIDs, mms on the SVA list.</summary>
    public (int Domains, int Pasids, int Mms) SvaLeftovers() => _core.SvaLeftovers();

    /// <summary>PASID_CHECK_HWPT: the handle name of the domain at <paramref name="pasid"/> of the device's group, "sva", or null when free.</summary>
    public string? PasidDomainName(string dev, uint pasid)
    {
        if (!_devicesByName.TryGetValue(dev, out var device) || _core.GroupGet(device) is not { } group) return null;
        try
        {
            if (_core.AttachHandleGet(group, pasid, 0, out var handle) != OK) return null;
            return handle is IommuSva ? "sva" : _handles.NameOf(handle!.Domain!);
        }
        finally
        {
            _core.GroupPut(group);
        }
    }
}
