using IommuConformance.Contract.Vocabulary;
using static IommuConformance.Contract.Args;

namespace IommuConformance.Contract;

/// <summary><c>probe {dev}</c>: iommu_probe_device() on the hotplug path.</summary>
public sealed record Probe(string Dev) : Operation
{
    public static readonly OpSpec<Probe> Entry = new("probe", [Args.Dev], v => new(S(v, 0)), o => [V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>bus_probe {bus}</c>: the boot-time bus_iommu_probe(): probe every device of the bus, then set up each new group's default domain from all its members.</summary>
public sealed record BusProbe(string Bus) : Operation
{
    public static readonly OpSpec<BusProbe> Entry = new("bus_probe", [Args.Bus], v => new(S(v, 0)), o => [V(o.Bus)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>release {dev}</c>: device removal: the driver core unbinds its driver, then iommu_release_device().</summary>
public sealed record Release(string Dev) : Operation
{
    public static readonly OpSpec<Release> Entry = new("release", [Args.Dev], v => new(S(v, 0)), o => [V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>get_domain {dev}</c>: iommu_get_domain_for_dev(), answered by name.</summary>
public sealed record GetDomain(string Dev) : Operation
{
    public static readonly OpSpec<GetDomain> Entry = new("get_domain", [Args.Dev], v => new(S(v, 0)), o => [V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>group_type_read {dev}</c>: read /sys/kernel/iommu_groups/N/type.</summary>
public sealed record GroupTypeRead(string Dev) : Operation
{
    public static readonly OpSpec<GroupTypeRead> Entry = new("group_type_read", [Args.Dev], v => new(S(v, 0)), o => [V(o.Dev)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>group_type_write {dev, type}</c>: write /sys/kernel/iommu_groups/N/type (with privileges).</summary>
public sealed record GroupTypeWrite(string Dev, string Type) : Operation
{
    public static readonly OpSpec<GroupTypeWrite> Entry =
        new("group_type_write", [Args.Dev, SysfsType], v => new(S(v, 0), S(v, 1)), o => [V(o.Dev), V(o.Type)]);
    public override OpSpec Spec => Entry;
}
