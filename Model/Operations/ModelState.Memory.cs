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
    /// behind no IOMMU reaches iova itself. Else through the domain the device's hardware is on (<see cref="HardwareOf"/>:
    /// its group's current domain, unless a refused MUST_SUCCEED switch or revert left it behind; a PASID: <see cref="PasidRoute"/>):
    /// no group → EIO <c>no_domain</c>; nothing attached since its probe → the driver's <see cref="DriverCapabilities.NeverAttachedFault"/>;
    /// blocking (also a BLOCKED default) → EIO <c>blocked</c>; identity → OK iova; a DMA default domain (the DMA API
    /// maps nothing here) → EIO <c>translation</c>; a user domain: every byte in order must be mapped
    /// (<c>translation</c>) with the right the access needs (<c>permission</c>; on LPAE stage 1 a <c>w</c> leaf is
    /// readable too, <see cref="PageTableCaps.WriteImpliesRead"/>); OK with the first byte's address. In a group
    /// without a current domain every fault is named <c>no_domain</c> (docs/operations.md). A domain the kernel freed
    /// under the hardware answers <c>translation</c> here, and <see cref="Judge"/> admits any DMA answer for it.
    /// </summary>
    private ModelStep DeviceDma(DeviceDma op)
    {
        if (op.Size == 0 || op.Iova + (op.Size - 1) < op.Iova) return Fail(Errno.EINVAL);
        return DmaRouteOf(op.Dev, op.Pasid ?? 0).Land(op.Iova, op.Size, op.Write) switch
        {
            (Errno.OK, var phys, _) => Value(DmaValues.Phys(phys)),
            (Errno.EIO, _, { } reason) => DmaFault(reason),
            var (errno, _, _) => Fail(errno),
        };
    }

    /// <summary>
    /// Where a DMA by <paramref name="dev"/> (with <paramref name="pasid"/>, 0 for none) goes in this state, as
    /// <see cref="DeviceDma"/> describes: unknown → ENODEV; behind no IOMMU → 1:1; a PASID → <see cref="PasidRoute"/>;
    /// no group → <c>no_domain</c>; else through what the device's hardware is on, every fault named <c>no_domain</c>
    /// in a group without a current domain or on an instance that has not made its table (<see cref="LacksUnitTable"/>).
    /// </summary>
    public DmaRoute DmaRouteOf(string dev, ulong pasid = 0)
    {
        if (machine.Device(dev) is not { } spec) return DmaRoute.Refused(Errno.ENODEV);
        if (spec.Iommu is null) return DmaRoute.Identity;
        if (pasid > 0) return PasidRoute(spec, pasid);   // PASID 0 is IOMMU_NO_PASID: the RID's own
        if (GroupFor(dev) is not { } g) return DmaRoute.Faulting(DmaFaults.NoDomain);
        var route = RouteThrough(g, HardwareOf(g, dev), machine.Driver(spec.Iommu)?.Caps.NeverAttachedFault ?? DmaFaults.NoDomain);
        // an instance that has not made its table yet answers every DMA with a root-entry fault: no device is on a
        // paging or identity domain there (RecordUnitTables)
        return g.Current is null || LacksUnitTable(spec.Iommu) ? route.FaultingAs(DmaFaults.NoDomain) : route;
    }

    /// <summary>
    /// A PASID-tagged DMA: through what the device's driver last set at that PASID (<see cref="PasidState.DevHw"/>), on a
    /// driver whose hardware translates PASIDs (<see cref="DriverCapabilities.PasidTranslation"/>): a trace's paging
    /// domain → its mappings; an SVA domain → its mm's CPU page table (arm64 stage-1 and x86-64 rights alike: a
    /// writable page is readable; on scalable vtd an exited mm's entry is gone, intel_mm_release); nothing set (never, blocked, released, a hot-added member, a device without PASIDs), or a driver
    /// without PASID translation → <c>no_domain</c> (an invalid CD, a PASID entry not present, a bad substream).
    /// </summary>
    private DmaRoute PasidRoute(DeviceSpec dev, ulong pasid)
    {
        if (machine.Driver(dev.Iommu!) is not { Caps.PasidTranslation: true } driver) return DmaRoute.Faulting(DmaFaults.NoDomain);
        if (Pasid.DevHw.GetValueOrDefault(dev.Name)?.GetValueOrDefault(pasid) is not { } hw) return DmaRoute.Faulting(DmaFaults.NoDomain);
        if (hw.Sva >= 0)
        {
            var mm = Pasid.Mms.GetValueOrDefault(Pasid.Domains[hw.Sva].Mm);
            // vtd's intel_mm_release tore the exited mm's PASID entries down; an SMMU's CD stays, on an empty table
            if (driver.Caps.PasidEntryStrict && mm is null or { Exited: true }) return DmaRoute.Faulting(DmaFaults.NoDomain);
            return DmaRoute.Through(mm?.Mappings ?? DomainMappings.Empty, writeImpliesRead: true);
        }
        return domains.GetValueOrDefault(hw.Handle!) is { } user && user.Seq == hw.Seq
            ? DmaRoute.Through(user.Mappings, PagingOf(user).WriteImpliesRead)
            : DmaRoute.Faulting(DmaFaults.Translation);
    }

    /// <summary>
    /// Through what the device's hardware is on (<paramref name="hw"/>) in group <paramref name="g"/>: blocking (also a
    /// BLOCKED default) → <c>blocked</c>; identity → 1:1; a DMA default domain → the DMA API's mappings; a live user
    /// domain → its mappings; a freed one → <c>translation</c>; nothing attached since the probe (a failed first attach)
    /// → <paramref name="neverAttached"/>, the driver's <see cref="DriverCapabilities.NeverAttachedFault"/>.
    /// </summary>
    private DmaRoute RouteThrough(GroupState g, HardwareDomain hw, string neverAttached)
    {
        if (hw.Domain is not { } domain) return DmaRoute.Faulting(hw.Freed ? DmaFaults.Translation : neverAttached);
        switch (domain.Role)
        {
            case DomainRole.Blocking:
                return DmaRoute.Faulting(DmaFaults.Blocked);
            case DomainRole.Default:
                return g.Default switch
                {
                    DefaultKind.Identity => DmaRoute.Identity,
                    DefaultKind.Blocked => DmaRoute.Faulting(DmaFaults.Blocked),
                    _ => DmaRoute.Through(DefaultMappings(g), DriverOf(g).Caps.Paging.WriteImpliesRead),
                };
            default:
                return LiveUser(hw) is { } user
                    ? DmaRoute.Through(user.Mappings, PagingOf(user).WriteImpliesRead)
                    : DmaRoute.Faulting(DmaFaults.Translation);
        }
    }

    /// <summary>The live user domain a hardware entry is on: the same handle and allocation; null once it was freed.</summary>
    private UserDomain? LiveUser(HardwareDomain hw) =>
        hw.Domain?.Handle is { } handle && domains.TryGetValue(handle, out var user) && (hw.Seq < 0 || user.Seq == hw.Seq) ? user : null;

    /// <summary>
    /// True when the device's hardware is on a domain the kernel has freed (a member a refused MUST_SUCCEED switch left
    /// on a user domain that was freed after, or on the new default a failed sysfs switch freed): a use after free,
    /// whose DMA answer the contract cannot fix.
    /// </summary>
    public bool DmaUndefined(string dev)
    {
        if (GroupFor(dev) is not { } g || !g.Lagging.TryGetValue(dev, out var hw)) return false;
        return hw.Freed || (hw.Domain is { Role: DomainRole.User } && LiveUser(hw) is null);
    }

    /// <summary>The page-table facts of a user domain (its instance's driver).</summary>
    private PageTableCaps PagingOf(UserDomain domain) =>
        (machine.Driver(domain.Iommu) ?? throw new InvalidOperationException($"domain {domain.Handle} has no driver")).Caps.Paging;

    /// <summary>
    /// The routes a DMA by <paramref name="dev"/> (with <paramref name="pasid"/>) may take: <see cref="DmaRouteOf"/>'s, and while a failed map left a
    /// domain's tables untold (<see cref="UserDomain.Alternatives"/>) the route through each of its other candidates too.
    /// </summary>
    public IReadOnlyList<DmaRoute> DmaRoutesOf(string dev, ulong pasid = 0)
    {
        var route = DmaRouteOf(dev, pasid);
        if (!HasUndecidedDomain) return [route];
        List<DmaRoute>? routes = null;
        foreach (var domain in domains.Values)
        {
            if (domain.Alternatives.IsDefaultOrEmpty) continue;
            routes ??= [route];
            foreach (var mappings in domain.Alternatives.Skip(1)) routes.Add(WithMappings(domain, mappings).DmaRouteOf(dev, pasid));
        }
        return routes ?? [route];
    }

    private ModelState WithMappings(UserDomain domain, DomainMappings mappings) =>
        With(domains: domains.SetItem(domain.Handle, domain with { Mappings = mappings, Alternatives = [] }));

    /// <summary>
    /// The domain's mappings are one of <paramref name="candidates"/> (the first is taken as <c>Mappings</c>): the
    /// next outcomes tell which (<see cref="JudgeAlternatives"/>).
    /// </summary>
    private ModelState WithAlternatives(UserDomain domain, IReadOnlyList<DomainMappings> candidates) =>
        With(domains: domains.SetItem(domain.Handle, domain with { Mappings = candidates[0], Alternatives = candidates.Count > 1 ? [.. candidates] : [] }));

    private ModelStep DmaFault(string reason) => new(new Outcome(Errno.EIO, DmaValues.Fault(reason), []), this);

    /// <summary>The mappings of a live handle (empty for an unknown one): for tests and generators.</summary>
    public DomainMappings MappingsOf(string handle) => domains.GetValueOrDefault(handle)?.Mappings ?? DomainMappings.Empty;

    /// <summary>The page-table facts of a live handle's driver, or null.</summary>
    public PageTableCaps? PagingOf(string handle) => domains.GetValueOrDefault(handle) is { } d ? PagingOf(d) : null;
}
