using IommuConformance.Contract;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Mock;
using IommuConformance.Implementations.PageTable;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// The iommufd selftest mock driver (selftest.c): a static BLOCKED domain that is both default_domain and
/// blocked_domain, no identity, no release_domain, dirty-tracking paging domains that a no-dirty device
/// refuses, the 2 KiB-page mock page table. Accepts only its private bus, which <c>platform</c> stands for. Its
/// "hardware" is a table of attach records in memory (<see cref="MockHardware"/>).
/// </summary>
public sealed class MockDriver : IommuOps, IommuDomainOps
{
    private const int Records = 256;

    private readonly IommuCore _core;
    private readonly HardwarePlatform _platform;
    private readonly IommuDomain _blocked;
    private readonly Dictionary<string, (MockHardware Hw, ulong Table)> _mocks = new(StringComparer.Ordinal);
    private readonly PasidSlots _pasids;
    private readonly HashSet<string> _pasid1024FakeError = new(StringComparer.Ordinal);   // mock_dev::pasid_1024_fake_error

    public MockDriver(IommuCore core, HardwarePlatform platform)
    {
        _core = core;
        _platform = platform;
        _pasids = new PasidSlots(core.Touched);
        _blocked = new IommuDomain(core.AllocDomainId(), DomainType.Blocked, this, DriverNames.Mock, isStatic: true);
        core.TrackDomain(_blocked);
    }

    /// <summary>One mock instance: its record table, allocated once and handed to the hardware.</summary>
    public IommuOps AddInstance(IommuSpec spec, MockHardware hardware)
    {
        if (_platform.Allocator.Alloc(0, out var table) != Errno.OK) throw new InvalidOperationException("no memory for the mock's records at boot");
        hardware.RecordTableBase = table;
        _mocks.Add(spec.Name, (hardware, table));
        return this;
    }

    public string Name => DriverNames.Mock;

    /// <summary>mock_probe_device(): only devices of the mock bus.</summary>
    public Errno ProbeDevice(Device dev) => dev.Spec.Bus == BusNames.Platform ? Errno.OK : Errno.ENODEV;

    /// <summary>The mock keeps nothing per device but its attach record, which it clears itself.</summary>
    public void ReleaseDevice(Device dev)
    {
        WriteRecord(dev, 0, 0);
        _pasids.Release(dev);
    }

    /// <summary>MOCK_PASID_WIDTH 20.</summary>
    public int MaxPasids => 1 << 20;

    public bool HasSetDevPasid => true;

    /// <summary>
    /// mock_domain_set_dev_pasid_nop(): a dirty-tracking domain on a no-dirty device → -EINVAL; PASID 1024
    /// (IOMMU_TEST_PASID_RESERVED) fakes an error: the first non-blocked set arms it, the next fails -ENOMEM and disarms
    /// it, a blocked set disarms it (the selftest's way to test the core's rollback).
    /// </summary>
    public Errno SetDevPasid(IommuDomain domain, Device dev, uint pasid, IommuDomain? old)
    {
        if (domain is MockDomain { DirtyTracking: true } && dev.Spec.NoDirty) return Errno.EINVAL;
        if (pasid == 1024)
        {
            if (domain.Type == DomainType.Blocked) _pasid1024FakeError.Remove(dev.Name);
            else if (_pasid1024FakeError.Remove(dev.Name)) return Errno.ENOMEM;
            else _pasid1024FakeError.Add(dev.Name);
        }
        _pasids.Set(dev, pasid, domain);
        return Errno.OK;
    }

    /// <summary>What the device's PASID is set to.</summary>
    internal IommuDomain? PasidDomain(string dev, uint pasid) => _pasids.Get(dev, pasid);

    /// <summary>Unlike the selftest mock's one group per device, devices sharing a key share a group (docs/operations.md).</summary>
    public IommuGroup? DeviceGroup(Device dev) => _core.AliasGroupOrAllocLocked(dev);

    /// <summary>Never consulted: the static default domain decides.</summary>
    public DomainType DefDomainType(Device dev) => DomainTypes.NoPreference;

    /// <summary>mock_domain_alloc_paging_flags(): dirty tracking needs a device that can track.</summary>
    public Errno DomainAllocPagingFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain)
    {
        domain = null;
        var dirty = (flags & HwptAllocFlags.DirtyTracking) != 0;
        if (dirty && dev.Spec.NoDirty) return Errno.EOPNOTSUPP;
        if (_core.AllocFails(Warn.FaultSites.Domain, dev)) return Errno.ENOMEM;   // mock_domain_alloc_paging_flags(): kzalloc
        var r = MockPgtable.Create(_platform.Allocator, out var pgtable, owner: dev.Name);
        if (r != Errno.OK) return r;
        domain = new MockDomain(_core.AllocDomainId(), this, dirty, pgtable!) { Iommu = dev.Iommu!.IommuDev };
        return Errno.OK;
    }

    public IommuDomain? IdentityDomain => null;
    public IommuDomain? BlockedDomain => _blocked;
    public IommuDomain? DefaultDomain => _blocked;
    public IommuDomain? ReleaseDomain => null;

    public bool Capable(Device dev, IommuCap cap) => false;

    /// <summary>
    /// mock_domain_nop_attach(): a dirty-tracking domain on a no-dirty device is the canonical -EINVAL. It trusts that
    /// dev is a mock device: handed a foreign device it accepts it and has no record of its own to write.
    /// </summary>
    public Errno AttachDev(IommuDomain domain, Device dev, IommuDomain? old)
    {
        if (domain is MockDomain { DirtyTracking: true } && dev.Spec.NoDirty) return Errno.EINVAL;
        if (domain is MockDomain paging) WriteRecord(dev, MockHardware.Record(MockHardware.KindTranslate, domain.Id), paging.Pgtable.RootPhys);
        else WriteRecord(dev, MockHardware.Record(domain.Type == DomainType.Identity ? MockHardware.KindBypass : MockHardware.KindAbort, 0), 0);
        return Errno.OK;
    }

    // The record is two words: the root first, then word 0 with V, so the hardware never sees V with a stale root.
    private void WriteRecord(Device dev, ulong w0, ulong root)
    {
        if (!_mocks.TryGetValue(dev.Iommu!.IommuDev.Name, out var mock) || mock.Hw.RequesterIdOf(dev.Name) is not { } rid || rid >= Records)
            return;
        var at = mock.Table + (ulong)rid * MockHardware.RecordBytes;
        mock.Hw.Memory.Write(at + 8, root);
        mock.Hw.Memory.Write(at, w0);
        _core.Touched.Device(dev.Name);
    }

    /// <summary>mock_domain_free(): the hardware checks nobody still uses it; then the page table goes (no cache to flush).</summary>
    public void Free(IommuDomain domain)
    {
        _platform.DomainFreed(domain);
        if (domain is MockDomain paging) paging.Pgtable.Free();
    }
}

/// <summary>struct mock_iommu_domain.</summary>
public sealed class MockDomain(int id, IommuDomainOps ops, bool dirtyTracking, MockPgtable pgtable)
    : PagingDomain(id, ops, DriverNames.Mock, pgtable)
{
    public bool DirtyTracking => dirtyTracking;

    // mock_iotlb_sync: nothing caches, so the gathered tables can go at once
    protected internal override void IotlbSync(IotlbGather gather) => gather.FreePages();
}
