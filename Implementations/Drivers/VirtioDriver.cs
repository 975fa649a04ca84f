using System.Buffers.Binary;
using IommuConformance.Contract;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Virtio;

namespace IommuConformance.Implementations.Drivers;

/// <summary>
/// The virtio-iommu driver (drivers/iommu/virtio-iommu.c). It programs the device only through its request queue:
/// paging domains (4K, the device's input range) finalised on one device (attach from another → -EINVAL), whose
/// mappings the device keeps and the driver mirrors in its own tree; the identity domain is a bypass ATTACH to the
/// reserved identity domain id (VIRTIO_IOMMU_F_BYPASS_CONFIG); deferred flush capable; no def_domain_type, no
/// dirty tracking, no PASID, no release_domain (release_device detaches). The core here has no empty-paging
/// fallback for a missing blocked_domain, so the driver has a static blocked domain: it DETACHes the endpoint,
/// which then faults (config.bypass is cleared at probe). One driver per machine; <see cref="AddInstance"/> probes a
/// device and gives the ops it registers.
/// </summary>
public sealed class VirtioDriver : IommuOps
{
    private readonly IommuCore _core;
    private readonly HardwarePlatform _platform;
    private readonly Dictionary<string, ViommuDev> _viommus = new(StringComparer.Ordinal);
    private readonly DomainOpsImpl _domainOps;
    private NoIdentityOps? _noIdentity;

    public VirtioDriver(IommuCore core, HardwarePlatform platform)
    {
        _core = core;
        _platform = platform;
        _domainOps = new DomainOpsImpl(this);
        BlockedDomain = new IommuDomain(core.AllocDomainId(), DomainType.Blocked, _domainOps, DriverNames.Virtio, isStatic: true);
        IdentityDomain = new IommuDomain(core.AllocDomainId(), DomainType.Identity, _domainOps, DriverNames.Virtio, isStatic: true);
        core.TrackDomain(BlockedDomain);
        core.TrackDomain(IdentityDomain);
    }

    /// <summary>
    /// viommu_probe of one device; the ops it registers: the driver, or (the instance's <c>identityDomain</c> knob off)
    /// a variant without an identity domain that shares the driver's owner.
    /// </summary>
    public IommuOps AddInstance(IommuSpec spec, VirtioIommuHardware hardware)
    {
        var viommu = ViommuDev.Probe(hardware, _platform.Allocator)
                     ?? throw new InvalidOperationException($"{spec.Name}: the virtio-iommu device lacks VERSION_1 or MAP_UNMAP");
        _viommus.Add(spec.Name, viommu);
        return spec.Options.IdentityDomain == false || !viommu.Has(ViommuFeatures.BypassConfig) ? _noIdentity ??= new NoIdentityOps(this) : this;
    }

    public string Name => DriverNames.Virtio;

    /// <summary>The driver's side of an instance, for tests.</summary>
    public ViommuDev? ViommuOf(string instance) => _viommus.GetValueOrDefault(instance);

    // viommu_probe_device: the endpoint (kzalloc), then its PROBE (reserved regions) when the device has probe_size
    public Errno ProbeDevice(Device dev)
    {
        if (!_viommus.TryGetValue(dev.Iommu!.IommuDev.Name, out var viommu) || viommu.Hardware.RequesterIdOf(dev.Name) is not { } epId)
            return Errno.ENODEV;
        if (_core.AllocFails(Warn.FaultSites.ViommuEndpoint, dev)) return Errno.ENOMEM;
        var vdev = new ViommuEndpoint(viommu, (uint)epId);
        if (viommu.ProbeSize > 0)
        {
            var ret = ProbeEndpoint(vdev, dev);
            if (ret != Errno.OK) return ret;   // err_free_dev: the endpoint and its regions go
        }
        dev.Iommu.Priv = vdev;
        return Errno.OK;
    }

    // viommu_probe_endpoint: the request (kzalloc), sent through __viommu_add_req's own copy; RESV_MEM properties into
    // the endpoint's reserved regions
    private Errno ProbeEndpoint(ViommuEndpoint vdev, Device dev)
    {
        if (_core.AllocFails(Warn.FaultSites.ViommuProbe, dev)) return Errno.ENOMEM;
        var probe = new byte[ViommuReq.ProbeBytes];
        probe[0] = ViommuReq.Probe;
        BinaryPrimitives.WriteUInt32LittleEndian(probe.AsSpan(4), vdev.Id);
        var ret = vdev.Viommu.SendReqSync(probe, vdev.Viommu.ProbeSize + ViommuReq.TailBytes, out var reply,
            Warn.FaultSites.Key(Warn.FaultSites.ViommuProbeReq, dev.Name));
        if (ret != Errno.OK) return ret;
        for (var cur = 0; cur + 4 <= vdev.Viommu.ProbeSize;)
        {
            var type = BinaryPrimitives.ReadUInt16LittleEndian(reply.AsSpan(cur)) & 0xFFF;
            var len = BinaryPrimitives.ReadUInt16LittleEndian(reply.AsSpan(cur + 2)) + 4;
            if (type == ViommuProbe.TNone) break;
            if (type == ViommuProbe.TResvMem && cur + ViommuProbe.ResvMemBytes <= vdev.Viommu.ProbeSize)
                vdev.ResvRegions.Add((BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(cur + 8)),
                    BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(cur + 16)), reply[cur + 4]));
            cur += len;
        }
        return Errno.OK;
    }

    // viommu_release_device: detach from whatever domain the endpoint is on
    public void ReleaseDevice(Device dev)
    {
        if (dev.Iommu?.Priv is not ViommuEndpoint vdev) return;
        DetachDev(dev, vdev);
        dev.Iommu.Priv = null;
    }

    // viommu_device_group: pci_device_group / generic_device_group (devices sharing a key alias, docs/operations.md)
    public IommuGroup? DeviceGroup(Device dev) => _core.AliasGroupOrAllocLocked(dev);

    /// <summary>virtio-iommu has no def_domain_type.</summary>
    public DomainType DefDomainType(Device dev) => DomainTypes.NoPreference;

    // viommu_domain_alloc_paging: no flags (no domain_alloc_paging_flags in the kernel: the core answers -EOPNOTSUPP)
    public Errno DomainAllocPagingFlags(Device dev, HwptAllocFlags flags, out IommuDomain? domain)
    {
        domain = null;
        if (flags != HwptAllocFlags.None) return Errno.EOPNOTSUPP;
        if (dev.Iommu?.Priv is not ViommuEndpoint vdev) return Errno.ENODEV;
        // The granule must not exceed the CPU page size.
        if ((vdev.Viommu.PgsizeBitmap & (~vdev.Viommu.PgsizeBitmap + 1)) > 0x1000) return Errno.ENODEV;
        if (_core.AllocFails(Warn.FaultSites.Domain, dev)) return Errno.ENOMEM;   // viommu_domain_alloc_paging(): kzalloc
        domain = new VirtioDomain(_core.AllocDomainId(), _domainOps, vdev.Viommu, _core.Bugs) { Iommu = dev.Iommu.IommuDev };
        return Errno.OK;
    }

    public IommuDomain? IdentityDomain { get; }
    public IommuDomain? BlockedDomain { get; }
    public IommuDomain? DefaultDomain => null;
    public IommuDomain? ReleaseDomain => null;

    // viommu_capable: DEFERRED_FLUSH (unless the instance's knob turns it off)
    public bool Capable(Device dev, IommuCap cap) =>
        cap == IommuCap.DeferredFlush && (dev.Iommu?.IommuDev.Spec.Options.DeferredFlush ?? true);

    private Errno AttachDev(IommuDomain domain, Device dev)
    {
        // Trusting the core: a device that is no endpoint of ours has nothing to attach here.
        if (dev.Iommu?.Priv is not ViommuEndpoint vdev) return Errno.OK;
        if (domain is VirtioDomain paging) return AttachPaging(paging, dev, vdev);
        if (domain.Type == DomainType.Identity) return AttachIdentity(domain, dev, vdev);
        DetachDev(dev, vdev);   // the blocked domain
        return Errno.OK;
    }

    // viommu_attach_dev
    private Errno AttachPaging(VirtioDomain vdomain, Device dev, ViommuEndpoint vdev)
    {
        if (vdomain.Viommu != vdev.Viommu) return Errno.EINVAL;
        // The device moves the endpoint and drops the old domain's mappings when it empties; the driver keeps its
        // domain and replays them when it is attached again. The old domain loses its endpoint only once the ATTACH
        // went through: mainline drops it before the request, so a failed ATTACH (and the core's revert through here)
        // leaves the domain the endpoint is still on counted short (seeded bug viommu_attach_drops_endpoint_early).
        var early = _core.Bugs.IsOn(BugCatalogue.ViommuAttachDropsEndpointEarly);
        if (early && vdev.VDomain is VirtioDomain gone) gone.NrEndpoints--;
        var ret = SendAttach(vdev, (uint)vdomain.Id, 0, dev.Name);
        _core.Touched.Device(dev.Name);
        if (ret != Errno.OK) return ret;
        if (!early && vdev.VDomain is VirtioDomain old) old.NrEndpoints--;
        if (vdomain.NrEndpoints == 0)
        {
            ret = vdomain.ReplayMappings();
            if (ret != Errno.OK) return ret;
        }
        vdomain.NrEndpoints++;
        vdev.VDomain = vdomain;
        return Errno.OK;
    }

    // viommu_attach_identity_domain: ATTACH with the bypass flag to the identity domain id
    private Errno AttachIdentity(IommuDomain identity, Device dev, ViommuEndpoint vdev)
    {
        var ret = SendAttach(vdev, (uint)identity.Id, ViommuReq.AttachFBypass, dev.Name);
        _core.Touched.Device(dev.Name);
        if (ret != Errno.OK) return ret;
        if (vdev.VDomain is VirtioDomain old) old.NrEndpoints--;
        vdev.VDomain = identity;
        return Errno.OK;
    }

    // viommu_send_attach_req (one endpoint id per device here); __viommu_add_req's copy asks the gate
    private static Errno SendAttach(ViommuEndpoint vdev, uint domainId, uint flags, string dev)
    {
        var req = new byte[ViommuReq.AttachBytes];
        req[0] = ViommuReq.Attach;
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(4), domainId);
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(8), vdev.Id);
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(12), flags);
        return vdev.Viommu.SendReqSync(req, ViommuReq.TailBytes, out _, Warn.FaultSites.Key(Warn.FaultSites.ViommuAttachReq, dev));
    }

    // viommu_detach_dev: a DETACH from the endpoint's domain; a failure is the kernel's WARN_ON
    private void DetachDev(Device dev, ViommuEndpoint vdev)
    {
        if (vdev.VDomain is not { } vdomain) return;
        var req = new byte[ViommuReq.DetachBytes];
        req[0] = ViommuReq.Detach;
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(4), (uint)vdomain.Id);
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(8), vdev.Id);
        if (vdev.Viommu.SendReqSync(req, ViommuReq.TailBytes, out _) != Errno.OK) _core.Warnings.Warn(DetachFailedWarning);
        _core.Touched.Device(dev.Name);
        if (vdomain is VirtioDomain paging) paging.NrEndpoints--;
        vdev.VDomain = null;
    }

    /// <summary>The WARN_ON of viommu_detach_dev (a DETACH the device refused): no model answer has it, so a conformance check shows it.</summary>
    public const string DetachFailedWarning = "viommu_detach_failed";

    // viommu_domain_free (static domains are never freed)
    private void Free(IommuDomain domain)
    {
        _platform.DomainFreed(domain);
        if (domain is VirtioDomain paging) paging.Pgtable.Free();
    }

    private sealed class DomainOpsImpl(VirtioDriver driver) : IommuDomainOps
    {
        public Errno AttachDev(IommuDomain domain, Device dev, IommuDomain? old) => driver.AttachDev(domain, dev);
        public void Free(IommuDomain domain) => driver.Free(domain);
    }
}

/// <summary>struct viommu_endpoint: the device's endpoint id, its device, the domain it is on (null: none), its reserved regions.</summary>
public sealed class ViommuEndpoint(ViommuDev viommu, uint id)
{
    public ViommuDev Viommu => viommu;
    public uint Id => id;
    public IommuDomain? VDomain { get; set; }
    public List<(ulong Start, ulong End, byte Subtype)> ResvRegions { get; } = [];
}
