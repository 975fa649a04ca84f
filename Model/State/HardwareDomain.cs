namespace IommuConformance.Model.State;

/// <summary>
/// What one member's hardware is attached to when that is not its group's current domain: the kernel moves
/// <c>group->domain</c> after a MUST_SUCCEED switch that a member refused, and a revert that a member refuses leaves
/// it on the domain it had just taken (<c>__iommu_device_set_domain</c> returns before the driver's attach, so the
/// device's entry keeps its old domain). <see cref="Domain"/> names the domain (a trace's paging domain with its
/// allocation <see cref="Seq"/>, so that a freed and re-allocated handle is not taken for it); null with
/// <see cref="Freed"/> false: never attached since its probe; <see cref="Freed"/>: a domain the kernel has freed
/// since (a use after free: what the hardware reaches is undefined).
/// </summary>
public sealed record HardwareDomain(DomainRef? Domain, long Seq = -1, bool Freed = false)
{
    /// <summary>Never attached since the device was probed (its entry is what the IOMMU's reset or the last release left).</summary>
    public static readonly HardwareDomain Unattached = new((DomainRef?)null);

    /// <summary>A domain the kernel freed while this device's hardware still used it.</summary>
    public static readonly HardwareDomain Dangling = new(null, Freed: true);
}
