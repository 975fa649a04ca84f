using IommuConformance.Contract;
using IommuConformance.Model.Rules;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>The IOMMU API on the trace's paging domains (<c>map</c>, <c>unmap</c>, <c>iova_to_phys</c>) and DMA by a test device (<c>device_dma</c>).</summary>
public sealed partial class ModelState
{
    /// <summary>
    /// <c>map {domain, iova, paddr, size, prot}</c> — <c>iommu_map</c>. Not live → ENOENT (handle table); a prot with
    /// an unknown or repeated letter → EINVAL; then <see cref="PageTableRules.Map"/>: iova | paddr | size not aligned
    /// to the smallest page, size 0, a wrap → EINVAL; per best-page-size chunk the format's checks (past the aperture
    /// or the OAS → ERANGE, smmuv3 with a warning; no r/w: smmuv3 and vtd EINVAL); an overmap → the driver's errno
    /// (smmuv3 EEXIST + warning, vtd EADDRINUSE, virtio EINVAL) or, on mock, an overwrite with a warning. A failed map
    /// leaves nothing it mapped (on smmuv3, table entries it created or replaced on the way stay: a leftover).
    /// </summary>
    private ModelStep MapRange(Map op)
    {
        if (domains.GetValueOrDefault(op.Domain) is not { } domain) return Fail(Errno.ENOENT);
        if (!ProtFlags.TryParse(op.Prot, out var prot)) return Fail(Errno.EINVAL);
        var result = PageTableRules.Map(PagingOf(domain), domain.Mappings, op.Iova, op.Paddr, op.Size, prot);
        if (result.Errno != Errno.OK)
            return ReferenceEquals(result.Mappings, domain.Mappings)
                ? Fail(result.Errno, result.Warnings)
                : new(new Outcome(result.Errno, null, [.. result.Warnings]), WithMappings(domain, result.Mappings));
        return Ok(WithMappings(domain, result.Mappings), result.Warnings);
    }

    /// <summary>
    /// <c>unmap {domain, iova, size}</c> — <c>iommu_unmap</c>: the bytes unmapped (<see cref="PageTableRules.Unmap"/>):
    /// 0 when unaligned; stops at the first hole; a range ending inside a larger leaf: smmuv3 0 with a warning (no
    /// split), vtd the whole leaf counted, virtio nothing if any mapping crosses an end, mock always the size asked.
    /// Not live → ENOENT (the handle table answers before the kernel is called).
    /// </summary>
    private ModelStep UnmapRange(Unmap op)
    {
        if (domains.GetValueOrDefault(op.Domain) is not { } domain) return Fail(Errno.ENOENT);
        var result = PageTableRules.Unmap(PagingOf(domain), domain.Mappings, op.Iova, op.Size);
        var next = ReferenceEquals(result.Mappings, domain.Mappings) || result.Mappings.Equals(domain.Mappings) ? this : WithMappings(domain, result.Mappings);
        return new(new Outcome(Errno.OK, OutcomeValues.Number(result.Bytes), [.. result.Warnings]), next);
    }

    /// <summary><c>iova_to_phys {domain, iova}</c> — <c>iommu_iova_to_phys</c>: the address, 0 when unmapped (mock: with a warning). Not live → ENOENT.</summary>
    private ModelStep IovaToPhys(IovaToPhys op)
    {
        if (domains.GetValueOrDefault(op.Domain) is not { } domain) return Fail(Errno.ENOENT);
        var phys = PageTableRules.IovaToPhys(PagingOf(domain), domain.Mappings, op.Iova, out var warning);
        return new(new Outcome(Errno.OK, OutcomeValues.Number(phys), warning is null ? [] : [warning]), this);
    }

    /// <summary>
    /// <c>device_dma {dev, iova, size, write, pasid?}</c> — the DMA test device: size 0 or a wrap → EINVAL; a device
    /// behind no IOMMU reaches iova itself. Else through its group's current domain: no group or no domain (not
    /// probed, released, never attached) or a PASID (nothing is attached to PASIDs in this slice) → EIO
    /// <c>no_domain</c>; blocking (also a BLOCKED default) → EIO <c>blocked</c>; identity → OK iova; a DMA default
    /// domain (the DMA API maps nothing here) → EIO <c>translation</c>; a user domain: every byte in order must be
    /// mapped (<c>translation</c>) with the right the access needs (<c>permission</c>; on LPAE stage 1 a <c>w</c> leaf is
    /// readable too, <see cref="PageTableCaps.WriteImpliesRead"/>); OK with the first byte's address.
    /// </summary>
    private ModelStep DeviceDma(DeviceDma op)
    {
        if (op.Size == 0 || op.Iova + (op.Size - 1) < op.Iova) return Fail(Errno.EINVAL);
        if (machine.Device(op.Dev) is not { } dev) return Fail(Errno.ENODEV);
        if (dev.Iommu is null) return Value(DmaValues.Phys(op.Iova));
        if (op.Pasid is not null || GroupFor(op.Dev) is not { Current: { } current } g) return DmaFault(DmaFaults.NoDomain);
        switch (current.Role)
        {
            case DomainRole.Blocking:
                return DmaFault(DmaFaults.Blocked);
            case DomainRole.Default:
                return g.Default switch
                {
                    DefaultKind.Identity => Value(DmaValues.Phys(op.Iova)),
                    DefaultKind.Blocked => DmaFault(DmaFaults.Blocked),
                    _ => DmaFault(DmaFaults.Translation),
                };
            default:
                var user = domains[current.Handle!];
                var mappings = user.Mappings;
                var need = op.Write ? ProtFlags.WriteBit : ProtFlags.ReadBit;
                var writeReads = PagingOf(user).WriteImpliesRead;
                var last = op.Iova + (op.Size - 1);
                for (var cur = op.Iova; ;)
                {
                    if (mappings.Find(cur) is not { } run) return DmaFault(DmaFaults.Translation);
                    var rights = writeReads && (run.Prot & ProtFlags.WriteBit) != 0 ? run.Prot | ProtFlags.ReadBit : run.Prot;
                    if ((rights & need) == 0) return DmaFault(DmaFaults.Permission);
                    if (run.End - 1 >= last) break;
                    cur = run.End;
                }
                return Value(DmaValues.Phys(mappings.Find(op.Iova)!.Paddr + (op.Iova - mappings.Find(op.Iova)!.Iova)));
        }
    }

    /// <summary>The page-table facts of a user domain (its instance's driver).</summary>
    private PageTableCaps PagingOf(UserDomain domain) =>
        (machine.Driver(domain.Iommu) ?? throw new InvalidOperationException($"domain {domain.Handle} has no driver")).Caps.Paging;

    private ModelState WithMappings(UserDomain domain, DomainMappings mappings) =>
        With(domains: domains.SetItem(domain.Handle, domain with { Mappings = mappings }));

    private ModelStep DmaFault(string reason) => new(new Outcome(Errno.EIO, DmaValues.Fault(reason), []), this);

    /// <summary>The mappings of a live handle (empty for an unknown one): for tests and generators.</summary>
    public DomainMappings MappingsOf(string handle) => domains.GetValueOrDefault(handle)?.Mappings ?? DomainMappings.Empty;

    /// <summary>The page-table facts of a live handle's driver, or null.</summary>
    public PageTableCaps? PagingOf(string handle) => domains.GetValueOrDefault(handle) is { } d ? PagingOf(d) : null;
}
