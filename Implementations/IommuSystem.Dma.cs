using IommuConformance.Contract;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;

namespace IommuConformance.Implementations;

/// <summary>
/// The outcome of one device DMA (the iommu-testdev contract): OK with the physical address of the first byte, or
/// EIO with the fault the hardware answered; ENODEV for an unknown device, EINVAL for a size of 0.
/// </summary>
public readonly record struct DmaResult(Errno Errno, ulong Phys, DmaFault? Fault)
{
    public static DmaResult Of(DmaTranslation t) => t.Fault is { } f ? new(Errno.EIO, 0, f) : new(Errno.OK, t.Phys, null);
}

/// <summary>The DMA test device and the hardware views the isolation check reads.</summary>
public sealed partial class IommuSystem
{
    /// <summary>
    /// device_dma: the device reads or writes <paramref name="size"/> bytes at <paramref name="iova"/> through its
    /// IOMMU (cache first, then the structures; the fault also lands in that hardware's event queue / fault
    /// records). A device behind no IOMMU reaches the address itself. Never throws.
    /// </summary>
    public DmaResult DeviceDma(string dev, ulong iova, ulong size, bool write)
    {
        if (!_devicesByName.TryGetValue(dev, out var device)) return new(Errno.ENODEV, 0, null);
        if (size == 0) return new(Errno.EINVAL, 0, null);
        if (device.Fwspec is not { } instance) return new(Errno.OK, iova, null);
        return DmaResult.Of(instance.Hardware.Translate(dev, iova, size, write));
    }

    /// <summary>
    /// Every translation the device's hardware could produce now for (device, iova): a fresh walk and any live cache
    /// entry. Empty for an unknown device; one 1:1 answer for a device behind no IOMMU. Changes no counter.
    /// </summary>
    public IReadOnlyList<PossibleTranslation> PossibleTranslations(string dev, ulong iova, bool write)
    {
        if (!_devicesByName.TryGetValue(dev, out var device)) return [];
        if (device.Fwspec is not { } instance) return [new(TranslationSource.FreshWalk, DmaTranslation.Ok(iova, ulong.MaxValue))];
        return instance.Hardware.PossibleTranslations(dev, iova, write);
    }

    /// <summary>The same into <paramref name="found"/> (cleared first).</summary>
    public void PossibleTranslations(string dev, ulong iova, bool write, List<PossibleTranslation> found)
    {
        found.Clear();
        if (!_devicesByName.TryGetValue(dev, out var device)) return;
        if (device.Fwspec is not { } instance) found.Add(new(TranslationSource.FreshWalk, DmaTranslation.Ok(iova, ulong.MaxValue)));
        else instance.Hardware.PossibleTranslations(dev, iova, write, found);
    }

    /// <summary>
    /// Every translation a DMA by (device, PASID) could get now (<see cref="IommuHardware.PossiblePasidTranslations"/>);
    /// empty for an unknown device; 1:1 for a device behind no IOMMU. Changes no counter.
    /// </summary>
    public IReadOnlyList<PossibleTranslation> PossiblePasidTranslations(string dev, uint pasid, ulong iova, bool write)
    {
        if (!_devicesByName.TryGetValue(dev, out var device)) return [];
        if (device.Fwspec is not { } instance) return [new(TranslationSource.FreshWalk, DmaTranslation.Ok(iova, ulong.MaxValue))];
        return instance.Hardware.PossiblePasidTranslations(dev, pasid, iova, write);
    }

    /// <summary>The PASIDs the device's hardware has a valid or cached entry for (empty behind no IOMMU).</summary>
    public IReadOnlyCollection<uint> PasidsInUse(string dev) =>
        _devicesByName.TryGetValue(dev, out var device) && device.Fwspec is { } instance ? instance.Hardware.PasidsInUse(dev) : [];

    /// <summary>The live IOTLB entries of an instance (empty for an unknown one or hardware without an IOTLB). Read-only.</summary>
    public IReadOnlyList<IotlbEntry> LiveIotlbEntries(string instance) => HardwareOf(instance)?.LiveIotlbEntries() ?? [];

    /// <summary>The page tables the device's hardware translates through (fresh entry, cached config); empty for none.</summary>
    public IReadOnlyList<HardwareTable> HardwareTablesOf(string dev, bool withPages = false) =>
        _devicesByName.TryGetValue(dev, out var device) && device.Fwspec is { } instance ? instance.Hardware.TablesOf(dev, withPages) : [];

    /// <summary>The emulated IOMMU of an instance, for tests and counters; null for an unknown name.</summary>
    public IommuHardware? HardwareOf(string instance) => _platform.Iommus.FirstOrDefault(h => h.Instance == instance);

    /// <summary>Table frames live in the machine's allocator (page tables, stream tables, queues, CD tables).</summary>
    public long LiveFrames => _platform.Allocator.LiveFrames;

    /// <summary>The live domain with that id as a paging domain (map / unmap / iova_to_phys), or null.</summary>
    public PagingDomain? PagingDomain(int id) => _core.FindDomain(id) as PagingDomain;

    /// <summary>The domain a trace handle names, or null when the handle is not live.</summary>
    public IommuDomain? DomainOfHandle(string handle) => _handles.Acquire(handle) is { } h ? Release(h) : null;

    private IommuDomain Release(Adapter.DomainHandle h)
    {
        _handles.Release(h);
        return h.Domain;
    }
}
