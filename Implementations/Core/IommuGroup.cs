namespace IommuConformance.Implementations.Core;

/// <summary>
/// struct iommu_group. The device list, domain pointers and owner fields are protected by <see cref="Mutex"/>. Lives while
/// <see cref="RefCount"/> is positive: one reference per member device plus external iommu_group_get()s. Every
/// field write is reported to the machine's <see cref="TouchedSet"/>.
/// </summary>
public sealed class IommuGroup(int id, IommuDevice iommu, string key, TouchedSet touched)
{
    private readonly List<GroupDevice> _devices = [];
    private IommuDomain? _defaultDomain;
    private IommuDomain? _blockingDomain;
    private IommuDomain? _domain;
    private string? _owner;
    private int _ownerCnt;
    private int _refCount = 1;

    /// <summary>group->mutex.</summary>
    public Lock Mutex { get; } = new();

    /// <summary>From the group IDA: reused after the group is freed.</summary>
    public int Id => id;

    /// <summary>The instance whose driver created the group, and the alias key it groups by.</summary>
    public IommuDevice Iommu => iommu;

    public string Key => key;

    /// <summary>group->devices, in probe order.</summary>
    public IReadOnlyList<GroupDevice> Devices => _devices;

    public void AddDevice(GroupDevice gdev)
    {
        _devices.Add(gdev);
        touched.Group(id);
    }

    public void RemoveDevice(GroupDevice gdev)
    {
        _devices.Remove(gdev);
        touched.Group(id);
    }

    public IommuDomain? DefaultDomain
    {
        get => _defaultDomain;
        set => Set(ref _defaultDomain, value);
    }

    public IommuDomain? BlockingDomain
    {
        get => _blockingDomain;
        set => Set(ref _blockingDomain, value);
    }

    /// <summary>The domain currently attached to every member (RID).</summary>
    public IommuDomain? Domain
    {
        get => _domain;
        set => Set(ref _domain, value);
    }

    /// <summary>Opaque owner token (VFIO/iommufd); null for DMA-API users.</summary>
    public string? Owner
    {
        get => _owner;
        set => Set(ref _owner, value);
    }

    public int OwnerCnt
    {
        get => _ownerCnt;
        set => Set(ref _ownerCnt, value);
    }

    /// <summary>kobject refcount; changed only under the core's group-list lock.</summary>
    public int RefCount
    {
        get => _refCount;
        set => Set(ref _refCount, value);
    }

    private readonly SortedDictionary<uint, PasidArrayEntry> _pasidArray = [];

    /// <summary>group->pasid_array: PASID → entry, written under <see cref="Mutex"/>.</summary>
    public IReadOnlyDictionary<uint, PasidArrayEntry> PasidArray => _pasidArray;

    public void SetPasid(uint pasid, PasidArrayEntry entry)
    {
        _pasidArray[pasid] = entry;
        touched.Group(id);
    }

    public void ErasePasid(uint pasid)
    {
        _pasidArray.Remove(pasid);
        touched.Group(id);
    }

    /// <summary>iommu_group_first_dev().</summary>
    public Device FirstDev => _devices[0].Dev;

    /// <summary>The group was created or freed (its snapshot appears or goes).</summary>
    internal void Touch() => touched.Group(id);

    private void Set<T>(ref T field, T value)
    {
        field = value;
        touched.Group(id);
    }

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
