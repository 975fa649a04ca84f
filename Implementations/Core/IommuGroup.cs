namespace IommuConformance.Implementations.Core;

/// <summary>
/// struct iommu_group. Every field below <see cref="Mutex"/> is protected by it. Lives while
/// <see cref="RefCount"/> is positive: one reference per member device plus external iommu_group_get()s.
/// </summary>
public sealed class IommuGroup(int id, IommuDevice iommu, string key)
{
    /// <summary>group->mutex.</summary>
    public object Mutex { get; } = new();

    /// <summary>From the group IDA: reused after the group is freed.</summary>
    public int Id => id;

    /// <summary>The instance whose driver created the group, and the alias key it groups by.</summary>
    public IommuDevice Iommu => iommu;

    public string Key => key;

    /// <summary>group->devices, in probe order.</summary>
    public List<GroupDevice> Devices { get; } = [];

    public IommuDomain? DefaultDomain { get; set; }

    public IommuDomain? BlockingDomain { get; set; }

    /// <summary>The domain currently attached to every member (RID).</summary>
    public IommuDomain? Domain { get; set; }

    /// <summary>Opaque owner token (VFIO/iommufd); null for DMA-API users.</summary>
    public string? Owner { get; set; }

    public int OwnerCnt { get; set; }

    /// <summary>kobject refcount; changed only under the core's group-list lock.</summary>
    public int RefCount { get; set; } = 1;

    /// <summary>iommu_group_first_dev().</summary>
    public Device FirstDev => Devices[0].Dev;

    public override string ToString() => $"group {Id}";
}

/// <summary>struct group_device: one member of a group.</summary>
public sealed class GroupDevice(Device dev)
{
    public Device Dev => dev;
}

/// <summary>The group id allocator (iommu_group_ida): hands out the lowest free id.</summary>
public sealed class GroupIda
{
    private readonly SortedSet<int> _used = [];

    public int Alloc()
    {
        var id = 0;
        while (_used.Contains(id)) id++;
        _used.Add(id);
        return id;
    }

    public void Free(int id) => _used.Remove(id);
}
