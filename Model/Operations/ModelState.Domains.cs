using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>The handle table of the trace's paging domains: <c>domain_alloc_paging</c> and <c>domain_free</c>.</summary>
public sealed partial class ModelState
{
    /// <summary>
    /// <c>domain_alloc_paging {dev, as, flags?}</c> — <c>iommu_paging_domain_alloc_flags</c> behind the handle
    /// table. <c>as</c> live → EEXIST; device not probed → ENODEV; the driver refuses the flags → EOPNOTSUPP
    /// (smmuv3: any flag; mock: dirty tracking for a <c>noDirty</c> device). Else OK: <c>as</c> names a new
    /// UNMANAGED domain owned by the device's driver, finalised on its instance.
    /// </summary>
    private ModelStep DomainAllocPaging(DomainAllocPaging op)
    {
        if (domains.ContainsKey(op.As)) return Fail(Errno.EEXIST);
        if (GroupFor(op.Dev) is not { } g || machine.Device(op.Dev) is not { } dev) return Fail(Errno.ENODEV);
        var driver = DriverOf(g);
        var refused = driver.AllocPaging(dev, op.Flags);
        if (refused != Errno.OK) return Fail(refused);

        var domain = new UserDomain(op.As, driver.Driver, driver.Instance, op.Dev,
            DirtyTracking: op.Flags == AllocFlags.DirtyTracking, Seq: nextSeq);
        return Ok(With(domains: domains.Add(op.As, domain), nextSeq: nextSeq + 1));
    }

    /// <summary>
    /// <c>domain_free {domain}</c> — <c>iommu_domain_free</c> behind the handle table: not live → ENOENT; some
    /// group's current domain → EBUSY (iommufd refuses to destroy an attached HWPT); else OK and the name is free.
    /// A mock domain freed with mappings left warns (mock_domain_free: WARN_ON(!xa_empty)).
    /// </summary>
    private ModelStep DomainFree(DomainFree op)
    {
        if (domains.GetValueOrDefault(op.Domain) is not { } domain) return Fail(Errno.ENOENT);
        if (IsAttached(op.Domain)) return Fail(Errno.EBUSY);
        var next = With(domains: domains.Remove(op.Domain));
        return PagingOf(domain).Format == PageTableFormat.MockSlots && !domain.Mappings.IsEmpty
            ? Ok(next, Warn.MockFreeNotEmpty)
            : Ok(next);
    }
}
