using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware.Memory;

namespace IommuConformance.Implementations.Hardware;

/// <summary>
/// One emulated IOMMU instance. Its structures live in <see cref="PhysicalMemory"/>, written by the driver; the
/// hardware reads them as a bus master would and never tidies up on the driver's behalf. A device's requester id
/// (stream id, BDF, endpoint id) is its index among the instance's devices in topology order, as firmware would
/// describe it (<see cref="AssignRequesters"/>). Public members take the instance's lock.
/// </summary>
public abstract class IommuHardware(string instance, HardwarePlatform platform)
{
    private readonly Dictionary<string, int> _requesterIds = new(StringComparer.Ordinal);
    private readonly List<string> _devices = [];

    protected Lock Gate { get; } = new();

    public string Instance => instance;

    public HardwarePlatform Platform => platform;

    public PhysicalMemory Memory => platform.Memory;

    /// <summary>DMAs translated, faults raised (recorded or not), structure walks.</summary>
    public long Translations { get; protected set; }
    public long Faults { get; protected set; }
    public long Walks { get; protected set; }

    /// <summary>Gives each device behind this instance its requester id, in topology order (firmware's IORT / DMAR / virtio-iommu topology).</summary>
    public void AssignRequesters(IEnumerable<Device> devices)
    {
        foreach (var dev in devices)
        {
            _requesterIds[dev.Name] = _requesterIds.Count;
            _devices.Add(dev.Name);
        }
    }

    /// <summary>The device's requester id (fwspec->ids[0]), or null for a device not behind this instance.</summary>
    public int? RequesterIdOf(string dev) => _requesterIds.TryGetValue(dev, out var id) ? id : null;

    /// <summary>The devices behind this instance, in requester-id order.</summary>
    protected IReadOnlyList<string> Devices => _devices;

    /// <summary>The device's context decoded from memory as the hardware would read it now (no cache, no counters).</summary>
    public HwContext ReadContext(string dev)
    {
        lock (Gate) return RequesterIdOf(dev) is { } rid ? Decode(rid) : HwContext.None;
    }

    /// <summary>
    /// One DMA of <paramref name="size"/> bytes at <paramref name="iova"/>: cache first, then the structures; each leaf
    /// the access spans is translated. The physical address of the first byte, or the first fault (also recorded
    /// in the hardware's event queue / fault records).
    /// </summary>
    public DmaTranslation Translate(string dev, ulong iova, ulong size, bool write)
    {
        lock (Gate)
        {
            if (RequesterIdOf(dev) is not { } rid) return DmaTranslation.Faulted(DmaFault.ContextEntry);
            return Leaves(iova, size, write ? IommuPerm.Write : IommuPerm.Read, at => TranslateOne(rid, at, write ? IommuPerm.Write : IommuPerm.Read));
        }
    }

    /// <summary>
    /// One PASID-tagged DMA (PCIe PASID TLP prefix: SMMU SubstreamID, VT-d PASID): as <see cref="Translate"/>, through the
    /// entry the device's PASID structures hold at <paramref name="pasid"/>. PASID 0 is IOMMU_NO_PASID, the RID's own
    /// translation (SSID 0 = CD 0, RID_PASID). Hardware without PASID-tagged translation answers <c>context_entry</c>.
    /// </summary>
    public DmaTranslation TranslatePasid(string dev, uint pasid, ulong iova, ulong size, bool write)
    {
        if (pasid == 0) return Translate(dev, iova, size, write);
        lock (Gate)
        {
            if (RequesterIdOf(dev) is not { } rid) return DmaTranslation.Faulted(DmaFault.ContextEntry);
            var access = write ? IommuPerm.Write : IommuPerm.Read;
            return Leaves(iova, size, access, at => TranslatePasidOne(rid, pasid, at, access));
        }
    }

    // Each leaf the access spans, in order: the first byte's translation, or the first fault.
    private DmaTranslation Leaves(ulong iova, ulong size, IommuPerm access, Func<ulong, DmaTranslation> one)
    {
        var last = size == 0 || iova + size - 1 < iova ? iova : iova + size - 1;
        DmaTranslation first = default;
        for (var at = iova; ; )
        {
            Translations++;
            var t = one(at);
            if (!t.IsOk)
            {
                Faults++;
                return t;
            }
            if (at == iova) first = t;
            if (t.LeafLast >= last || t.LeafLast == ulong.MaxValue) return first;
            at = t.LeafLast + 1;
        }
    }

    /// <summary>Every translation a PASID-tagged DMA could get now (fresh structures, cached entries); nothing counted.</summary>
    public IReadOnlyList<PossibleTranslation> PossiblePasidTranslations(string dev, uint pasid, ulong iova, bool write)
    {
        if (pasid == 0) return PossibleTranslations(dev, iova, write);
        lock (Gate)
        {
            if (RequesterIdOf(dev) is not { } rid) return [];
            var found = new List<PossibleTranslation>(3);
            PeekPasid(rid, pasid, iova, write ? IommuPerm.Write : IommuPerm.Read, found);
            return found;
        }
    }

    /// <summary>The PASIDs the device's structures hold a valid entry for, or its caches hold one for (read-only).</summary>
    public IReadOnlyCollection<uint> PasidsInUse(string dev)
    {
        lock (Gate)
        {
            var found = new SortedSet<uint>();
            if (RequesterIdOf(dev) is { } rid) CollectPasids(rid, found);
            return found;
        }
    }

    /// <summary>A PASID-tagged translation of one address (lock held); hardware without PASIDs refuses it.</summary>
    protected virtual DmaTranslation TranslatePasidOne(int rid, uint pasid, ulong iova, IommuPerm access) =>
        DmaTranslation.Faulted(DmaFault.ContextEntry);

    /// <summary>Adds every translation a PASID-tagged DMA could get (lock held, nothing counted).</summary>
    protected virtual void PeekPasid(int rid, uint pasid, ulong iova, IommuPerm access, List<PossibleTranslation> found) =>
        found.Add(new(TranslationSource.FreshWalk, DmaTranslation.Faulted(DmaFault.ContextEntry)));

    /// <summary>Adds the PASIDs with a valid or cached entry (lock held).</summary>
    protected virtual void CollectPasids(int rid, SortedSet<uint> found) { }

    /// <summary>
    /// Every translation the hardware could produce now for (device, iova): by a fresh read of its structures and
    /// by any live cache entry (config cache, IOTLB). Changes no counter and records no fault.
    /// </summary>
    public IReadOnlyList<PossibleTranslation> PossibleTranslations(string dev, ulong iova, bool write)
    {
        var found = new List<PossibleTranslation>(3);
        PossibleTranslations(dev, iova, write, found);
        return found;
    }

    /// <summary>The same into <paramref name="found"/> (cleared first): a checker probing many addresses reuses one list.</summary>
    public void PossibleTranslations(string dev, ulong iova, bool write, List<PossibleTranslation> found)
    {
        found.Clear();
        lock (Gate)
            if (RequesterIdOf(dev) is { } rid) Peek(rid, iova, write ? IommuPerm.Write : IommuPerm.Read, found);
    }

    /// <summary>The live entries of this instance's IOTLB (empty for hardware without one), as a copy. Read-only.</summary>
    public IReadOnlyList<IotlbEntry> LiveIotlbEntries()
    {
        lock (Gate)
        {
            var entries = new List<IotlbEntry>();
            CollectIotlb(entries);
            return entries;
        }
    }

    /// <summary>
    /// The page tables the device's entry and its cached config (if any, and different) translate through: source, tag
    /// (ASID / DID / domain id) and root, with the table pages a walk from the root reaches when
    /// <paramref name="withPages"/>. Empty for an entry that does not translate. Read-only, counts nothing.
    /// </summary>
    public IReadOnlyList<HardwareTable> TablesOf(string dev, bool withPages = false)
    {
        lock (Gate)
        {
            if (RequesterIdOf(dev) is not { } rid) return [];
            var found = new List<HardwareTable>(2);
            CollectTables(rid, withPages, found);
            return found;
        }
    }

    /// <summary>Adds the live IOTLB entries (lock held).</summary>
    protected virtual void CollectIotlb(List<IotlbEntry> entries) { }

    /// <summary>Adds the tables requester <paramref name="rid"/> translates through, fresh first (lock held).</summary>
    protected abstract void CollectTables(int rid, bool withPages, List<HardwareTable> found);

    /// <summary>The ops->free hook: an entry still translating through the freed domain is a use-after-free.</summary>
    public void CheckFreed(int domainId)
    {
        lock (Gate)
            foreach (var dev in _devices)
                if (Decode(_requesterIds[dev]) is { Kind: HwContextKind.Translate } c && c.DomainId == domainId)
                    platform.Errors.Add($"{instance}: {EntryName} of {dev} still translates through freed domain #{domainId}");
    }

    /// <summary>How the hardware names a device's entry in errors ("STE", "context entry", ...).</summary>
    protected abstract string EntryName { get; }

    /// <summary>Decodes the context of requester <paramref name="rid"/> from memory; the domain id is the entry's tag.</summary>
    protected abstract HwContext Decode(int rid);

    /// <summary>Translates one address (lock held): counts, caches, records faults.</summary>
    protected abstract DmaTranslation TranslateOne(int rid, ulong iova, IommuPerm access);

    /// <summary>Adds every translation the hardware could produce (lock held, nothing counted).</summary>
    protected abstract void Peek(int rid, ulong iova, IommuPerm access, List<PossibleTranslation> found);

    /// <summary>Devices whose requester id the hardware sees as <paramref name="rid"/>.</summary>
    protected IEnumerable<string> DevicesAt(int rid, Func<int, int>? busId = null)
    {
        foreach (var dev in _devices)
            if ((busId ?? (i => i))(_requesterIds[dev]) == rid) yield return dev;
    }

    /// <summary>A fault for a walk that ended badly.</summary>
    protected static DmaFault FaultOf(PageTable.WalkStatus status) => status switch
    {
        PageTable.WalkStatus.PermissionFault => DmaFault.Permission,
        PageTable.WalkStatus.AccessFault => DmaFault.Access,
        PageTable.WalkStatus.AddressSizeFault => DmaFault.AddressSize,
        PageTable.WalkStatus.ExternalAbort => DmaFault.ExternalAbort,
        _ => DmaFault.Translation,
    };
}
