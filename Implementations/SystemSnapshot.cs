using System.Collections.Immutable;

namespace IommuConformance.Implementations;

/// <summary>
/// What the invariant checker may read of the implementation: plain data, no live objects. Domain ids are never
/// reused within one machine; group ids are (IDA). Collections are sorted (devices by topology order, groups
/// and domains by id) so that two snapshots of the same state serialise identically.
/// </summary>
public sealed record SystemSnapshot(
    ImmutableArray<DeviceSnapshot> Devices,
    ImmutableArray<GroupSnapshot> Groups,
    ImmutableArray<DomainSnapshot> Domains,
    ImmutableArray<string> HardwareErrors)
{
    /// <summary>By value: the same devices, groups, domains and errors, in the same order.</summary>
    public bool Equals(SystemSnapshot? other) =>
        other is not null && Devices.SequenceEqual(other.Devices) && Groups.SequenceEqual(other.Groups)
        && Domains.SequenceEqual(other.Domains) && HardwareErrors.SequenceEqual(other.HardwareErrors);

    public override int GetHashCode() => HashCode.Combine(Devices.Length, Groups.Length, Domains.Length, HardwareErrors.Length);
}

/// <summary>
/// A device: its group id (null when not probed), whether a driver is bound, and what its IOMMU hardware says
/// it translates through right now (<see cref="HwContext"/>; <c>None</c> when the hardware holds no entry).
/// </summary>
public sealed record DeviceSnapshot(string Name, string? Iommu, int? GroupId, bool DriverBound, HwContext Context);

/// <summary>A hardware context entry (STE, context entry, mock record): abort, bypass, or translate through a domain.</summary>
public sealed record HwContext(HwContextKind Kind, int? DomainId)
{
    public static readonly HwContext None = new(HwContextKind.None, null);
}

public enum HwContextKind { None, Abort, Bypass, Translate }

/// <summary>A live (not freed) group object, with the domain pointers of struct iommu_group.</summary>
public sealed record GroupSnapshot(
    int Id,
    string Iommu,
    string Key,
    ImmutableArray<string> Members,
    int? DomainId,
    int? DefaultDomainId,
    int? BlockingDomainId,
    string? Owner,
    int OwnerCount,
    int RefCount)
{
    /// <summary>group->pasid_array, by PASID (empty for most groups).</summary>
    public ImmutableArray<PasidSlotSnapshot> Pasids { get; init; } = [];

    /// <summary>By value, members in order included.</summary>
    public bool Equals(GroupSnapshot? other) =>
        other is not null && Id == other.Id && Iommu == other.Iommu && Key == other.Key && Members.SequenceEqual(other.Members)
        && DomainId == other.DomainId && DefaultDomainId == other.DefaultDomainId && BlockingDomainId == other.BlockingDomainId
        && Owner == other.Owner && OwnerCount == other.OwnerCount && RefCount == other.RefCount && Pasids.SequenceEqual(other.Pasids);

    public override int GetHashCode() => HashCode.Combine(Id, Members.Length, DomainId, DefaultDomainId, Owner, OwnerCount, RefCount);
}

/// <summary>
/// One slot of a group's PASID array: the domain, and the attach handle's kind (<c>iommufd</c>, <c>sva</c> with the
/// bond's refcount, or <c>bare</c> for a domain stored without a handle).
/// </summary>
public sealed record PasidSlotSnapshot(uint Pasid, int DomainId, string Handle, int Users = 0);

/// <summary>
/// A live (not freed) domain. <see cref="Type"/> is the sysfs spelling (blocked, identity, unmanaged, DMA,
/// DMA-FQ); <see cref="OwnerDriver"/> is null for static domains; <see cref="Handle"/> is the trace's
/// <c>as</c> name for user domains.
/// </summary>
public sealed record DomainSnapshot(int Id, string Type, string Driver, string? OwnerDriver, string? Iommu, bool IsStatic, string? Handle);
