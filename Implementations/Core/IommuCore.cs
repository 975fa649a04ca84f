using System.Runtime.CompilerServices;
using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;

namespace IommuConformance.Implementations.Core;

/// <summary>
/// The IOMMU core of one machine (drivers/iommu/iommu.c), split by concern into partial files: probe and
/// release, default domains, domains, attach, ownership, sysfs. Lock order: the probe lock, then a group's
/// mutex, then the group-list lock (which guards only the list, the IDA and refcounts).
/// Public methods take the locks they need; workers named *Locked expect theirs and assert it on their first line,
/// in every build (lockdep_assert_held).
/// </summary>
public sealed partial class IommuCore
{
    private readonly Lock _probeLock = new();   // iommu_probe_device_lock
    private readonly Lock _groupsLock = new();
    private readonly SortedDictionary<int, IommuGroup> _groups = [];    // live groups by id
    private readonly GroupIda _groupIda = new();
    private readonly SortedDictionary<int, IommuDomain> _domains = [];  // live domains by id; freed ones are dropped
    private IReadOnlyList<Device> _devices = [];
    private int _nextDomainId;

    public IommuCore(DefaultDomainType globalDefault, BugSwitches bugs, TouchedSet? touched = null)
    {
        Touched = touched ?? new TouchedSet();
        DefDomainType = globalDefault switch
        {
            DefaultDomainType.Identity => DomainType.Identity,
            DefaultDomainType.Dma => DomainType.Dma,
            _ => DomainType.DmaFq,
        };
        Bugs = bugs;
    }

    /// <summary>iommu_def_domain_type: passthrough, strict or lazy.</summary>
    public DomainType DefDomainType { get; }

    public BugSwitches Bugs { get; }

    public WarningLog Warnings { get; } = new();

    /// <summary>The DMA API layer (dma-iommu.c) of this machine; set by the machine builder (default: no fault injection).</summary>
    public Dma.IommuDma Dma
    {
        get => _dma ??= new Dma.IommuDma(1, Iova.NeverFailGate.Instance, Bugs, Warnings);
        set => _dma = value;
    }

    private Dma.IommuDma? _dma;

    /// <summary>Where the objects of this machine report their writes.</summary>
    public TouchedSet Touched { get; }

    /// <summary>Every device of the machine: the bus the alias lookup of device_group() walks.</summary>
    public void AddDevices(IReadOnlyList<Device> devices) => _devices = devices;

    /// <summary>The devices behind <paramref name="instance"/> (a write that changes what all of them meet reports them all).</summary>
    internal IEnumerable<Device> DevicesBehind(IommuDevice instance) => _devices.Where(d => d.Fwspec == instance);

    /// <summary>Domain ids are never reused within one machine.</summary>
    public int AllocDomainId() => Interlocked.Increment(ref _nextDomainId);

    /// <summary>Remembers a domain for snapshots until it is freed: static ones at driver registration, others at init.</summary>
    public void TrackDomain(IommuDomain domain)
    {
        domain.Touched = Touched;
        Touched.Domain(domain.Id);
        lock (_groupsLock) _domains.Add(domain.Id, domain);
    }

    // iommu_domain_free() forgets the domain: snapshots never walk freed domains.
    private void UntrackDomain(IommuDomain domain)
    {
        lock (_groupsLock) _domains.Remove(domain.Id);
    }

    /// <summary>Every domain not yet freed, by id.</summary>
    public IReadOnlyList<IommuDomain> LiveDomains()
    {
        lock (_groupsLock) return [.. _domains.Values];
    }

    /// <summary>The live domain of that id, or null (freed, or never allocated).</summary>
    public IommuDomain? FindDomain(int id)
    {
        lock (_groupsLock) return _domains.GetValueOrDefault(id);
    }

    private void WarnOn(string name) => Warnings.Warn(name);

    /// <summary>The driver core sets or clears dev->driver.</summary>
    public void SetDriverBound(Device dev, bool bound) => dev.DriverBound = bound;

    // lockdep_assert_held(&group->mutex), in every build: a *Locked worker called without its lock is a bug.
    private static void AssertLocked(IommuGroup group, [CallerMemberName] string caller = "")
    {
        if (!group.Mutex.IsHeldByCurrentThread) throw new InvalidOperationException($"{caller}: {group}'s mutex is not held");
    }

    // lockdep_assert_held(&iommu_probe_device_lock).
    private void AssertProbeLocked([CallerMemberName] string caller = "")
    {
        if (!_probeLock.IsHeldByCurrentThread) throw new InvalidOperationException($"{caller}: the probe lock is not held");
    }

    // ---- groups ----

    /// <summary>
    /// The device_group() helper both drivers use (pci_device_group-like): join the group of an already probed
    /// alias (same instance, same key), else allocate a new group. Returns a referenced group. Called from
    /// probe_device's caller, under the probe lock.
    /// </summary>
    public IommuGroup? AliasGroupOrAllocLocked(Device dev)
    {
        AssertProbeLocked();
        var iommu = dev.Iommu!.IommuDev;
        var alias = _devices.FirstOrDefault(d => d != dev && d.Group is not null
            && d.Group.Iommu == iommu && d.Group.Key == dev.Spec.Group);
        if (alias is not null) return GroupGet(alias)!;
        // iommu_group_alloc(): kzalloc of the group; NULL is the ERR_PTR(-ENOMEM) device_group() hands back.
        return AllocFails(Warn.FaultSites.Group, dev) ? null : GroupAlloc(iommu, dev.Spec.Group);
    }

    /// <summary>iommu_group_alloc(): a new group holding one reference.</summary>
    private IommuGroup GroupAlloc(IommuDevice iommu, string key)
    {
        lock (_groupsLock)
        {
            var group = new IommuGroup(_groupIda.Alloc(), iommu, key, Touched);
            _groups.Add(group.Id, group);
            group.Touch();
            return group;
        }
    }

    /// <summary>iommu_group_get(dev): the device's group with a reference taken, or null.</summary>
    public IommuGroup? GroupGet(Device dev)
    {
        lock (_groupsLock)
        {
            var group = dev.Group;
            if (group is not null) group.RefCount++;
            return group;
        }
    }

    /// <summary>iommu_group_put(): the last reference frees the group and its id.</summary>
    public void GroupPut(IommuGroup group)
    {
        lock (_groupsLock)
        {
            if (--group.RefCount > 0) return;
            _groups.Remove(group.Id);
            _groupIda.Free(group.Id);
            group.Touch();
        }
    }

    /// <summary>The live group objects, by id (for snapshots).</summary>
    public IReadOnlyList<IommuGroup> LiveGroups()
    {
        lock (_groupsLock) return [.. _groups.Values];
    }

    /// <summary>The live group of that id, or null.</summary>
    public IommuGroup? FindGroup(int id)
    {
        lock (_groupsLock) return _groups.GetValueOrDefault(id);
    }

    /// <summary>The group's domain pointers, read under its mutex.</summary>
    public GroupDomains DomainsOf(IommuGroup group)
    {
        lock (group.Mutex) return new(group.Domain, group.DefaultDomain, group.BlockingDomain);
    }

    /// <summary>True while <paramref name="domain"/> is some live group's current domain.</summary>
    public bool IsAttachedAnywhere(IommuDomain domain) =>
        LiveGroups().Any(g => ReferenceEquals(DomainsOf(g).Domain, domain) || PasidEntries(g).Any(e => e.Value.Domain == domain));
}

/// <summary>group->domain, group->default_domain and group->blocking_domain, read together.</summary>
public sealed record GroupDomains(IommuDomain? Domain, IommuDomain? Default, IommuDomain? Blocking);
