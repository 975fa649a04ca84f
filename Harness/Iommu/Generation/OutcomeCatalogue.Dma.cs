using IommuConformance.Contract;

namespace IommuConformance.Harness.Iommu.Generation;

public static partial class OutcomeCatalogue
{
    // The IOVA and flush-queue lines of a device's DMA set-up name the device (Dev); elsewhere they name none.
    private const string MagazineFault = Warn.FaultInjectionPrefix + Warn.FaultSites.Magazine,
        NodeFault = Warn.FaultInjectionPrefix + Warn.FaultSites.IovaNode, FqFault = Warn.FaultInjectionPrefix + Warn.FaultSites.Fq;

    // properties, not fields: a static field of this file may be read by the other part's initialisers before it is set
    private static string Rcaches => Dev(Warn.FaultSites.Rcaches);
    private static string CpuRcaches => Dev(Warn.FaultSites.CpuRcaches);
    private static string SetupFq => Dev(Warn.FaultSites.Fq);
    private static string SetupNode => Dev(Warn.FaultSites.IovaNode);
    private static string SetupMagazine => Dev(Warn.FaultSites.Magazine);

    /// <summary>
    /// The outcomes of the DMA API, the clock and fault injection (ModelState.Dma.cs), and what an injected failure
    /// adds to the operations that set up DMA ops; the default run meets each. Values are not part of the key.
    /// </summary>
    private static IEnumerable<(string Op, string Key)> DmaPairs =>
    [
        (DmaMap.Entry.Name, Key(Errno.OK)), (DmaMap.Entry.Name, Key(Errno.OK, Warn.DmaMapZeroSize)),
        (DmaUnmap.Entry.Name, Key(Errno.OK)), (DmaUnmap.Entry.Name, Key(Errno.OK, Warn.DmaDebugBadUnmap)),
        (Tick.Entry.Name, Key(Errno.OK)), (FailNth.Entry.Name, Key(Errno.OK)),
    ];

    /// <summary>
    /// DMA outcomes listed but not held: those the default run meets too rarely, and every outcome of an injected
    /// failure (the model answers one only when the implementation's fault-injection line names the site, so a run of
    /// the model alone never meets them).
    /// </summary>
    private static IEnumerable<(string Op, string Key)> DmaRare =>
    [
        (Probe.Entry.Name, Key(Errno.OK, Rcaches, Warn.DmaSetupFailed)),
        // a map the page table refuses (smmuv3 ERANGE with its warning): DMA_MAPPING_ERROR, the IOVA freed at once
        (DmaMap.Entry.Name, Key(Errno.OK, Warn.ArmLpaeMapRange)), (DmaMap.Entry.Name, Key(Errno.OK, Warn.Dma32BitRollover, Warn.ArmLpaeMapRange)),
        (DmaMap.Entry.Name, Key(Errno.OK, Warn.Dma32BitRollover)), (DmaMap.Entry.Name, Key(Errno.OK, NodeFault)),
        (DmaMap.Entry.Name, Key(Errno.OK, NodeFault, Warn.Dma32BitRollover)), (DmaMap.Entry.Name, Key(Errno.EINVAL)),
        (DmaMap.Entry.Name, Key(Errno.EEXIST)), (DmaMap.Entry.Name, Key(Errno.ENODEV)),
        (DmaUnmap.Entry.Name, Key(Errno.OK, MagazineFault)), (DmaUnmap.Entry.Name, Key(Errno.OK, Warn.DmaUnmapSize)),
        (DmaUnmap.Entry.Name, Key(Errno.EINVAL)), (DmaUnmap.Entry.Name, Key(Errno.ENOENT)), (DmaUnmap.Entry.Name, Key(Errno.ENODEV)),
        (Tick.Entry.Name, Key(Errno.OK, MagazineFault)), (Tick.Entry.Name, Key(Errno.EINVAL)),
        (Probe.Entry.Name, Key(Errno.OK, CpuRcaches, Warn.DmaSetupFailed)), (Probe.Entry.Name, Key(Errno.OK, SetupMagazine, Warn.DmaSetupFailed)),
        (Probe.Entry.Name, Key(Errno.OK, SetupFq, Warn.IovaFqInitFailed)),
        (Probe.Entry.Name, Key(Errno.OK, SetupNode)), (Probe.Entry.Name, Key(Errno.OK, LateProbe, Rcaches, Warn.DmaSetupFailed)),
        (Probe.Entry.Name, Key(Errno.OK, LateProbe, SetupFq, Warn.IovaFqInitFailed)),
        (BusProbe.Entry.Name, Key(Errno.OK, Rcaches, Warn.DmaSetupFailed)), (BusProbe.Entry.Name, Key(Errno.OK, SetupFq, Warn.IovaFqInitFailed)),
        (GroupTypeWrite.Entry.Name, Key(Errno.OK, Rcaches, Warn.DmaSetupFailed)), (GroupTypeWrite.Entry.Name, Key(Errno.OK, SetupFq, Warn.IovaFqInitFailed)),
        (GroupTypeWrite.Entry.Name, Key(Errno.ENOMEM, FqFault, Warn.IovaFqInitFailed)),
        .. CoreFaultPairs,
    ];

    /// <summary>
    /// What a failed allocation of a device, group, domain, cookie or table page answers (ModelState.Faults.cs): the
    /// probe's own structures (the core's and the driver's probe_device's) -ENOMEM; a default domain of the global type the DMA fallback (a DMA default -EINVAL), a
    /// requested one -ENOMEM; a user domain -ENOMEM; a map -ENOMEM, a dma_map DMA_MAPPING_ERROR.
    /// </summary>
    private static IEnumerable<(string Op, string Key)> CoreFaultPairs
    {
        get
        {
            string[] structures =
            [
                Dev(Warn.FaultSites.DevIommu), Dev(Warn.FaultSites.ArmSmmuMaster), Dev(Warn.FaultSites.DeviceDomainInfo),
                Dev(Warn.FaultSites.ViommuEndpoint), Dev(Warn.FaultSites.ViommuProbe), Dev(Warn.FaultSites.ViommuProbeReq),
                Dev(Warn.FaultSites.Group), Dev(Warn.FaultSites.GroupDevice),
            ];
            string[] domain = [Dev(Warn.FaultSites.Domain), Dev(Warn.FaultSites.TableRoot), Dev(Warn.FaultSites.Cookie)];
            string page = Warn.FaultInjectionPrefix + Warn.FaultSites.TablePage;
            foreach (var op in new[] { Probe.Entry.Name, BusProbe.Entry.Name })
            {
                foreach (var s in structures) yield return (op, Key(Errno.ENOMEM, s));
                yield return (op, Key(Errno.ENOMEM, LateProbe, Dev(Warn.FaultSites.GroupDevice)));
                foreach (var d in domain)
                {
                    yield return (op, Key(Errno.OK, d, Fallback));
                    yield return (op, Key(Errno.OK, LateProbe, d, Fallback));
                    yield return (op, Key(Errno.EINVAL, d));
                    yield return (op, Key(Errno.ENOMEM, d));
                }
            }
            // virtio's ATTACH request, smmuv3's CD table, a legacy VT-d unit's context table: a switch's refusal, a probe's first attach
            foreach (var attach in new[] { Dev(Warn.FaultSites.ViommuAttachReq), Dev(Warn.FaultSites.ArmSmmuCdTable), Dev(Warn.FaultSites.IntelContextTable) })
            {
                yield return (AttachGroup.Entry.Name, Key(Errno.ENOMEM, attach));
                yield return (AttachDevice.Entry.Name, Key(Errno.ENOMEM, attach));
                yield return (Probe.Entry.Name, Key(Errno.ENOMEM, attach, FirstAttach));
            }
            foreach (var d in domain) yield return (GroupTypeWrite.Entry.Name, Key(Errno.ENOMEM, d));
            yield return (DomainAllocPaging.Entry.Name, Key(Errno.ENOMEM, Dev(Warn.FaultSites.Domain)));
            yield return (DomainAllocPaging.Entry.Name, Key(Errno.ENOMEM, Dev(Warn.FaultSites.TableRoot)));
            foreach (var p in new[] { page, Warn.FaultInjectionPrefix + Warn.FaultSites.ViommuMapping, Warn.FaultInjectionPrefix + Warn.FaultSites.ViommuMapReq })
            {
                yield return (Map.Entry.Name, Key(Errno.ENOMEM, p));
                yield return (DmaMap.Entry.Name, Key(Errno.OK, p));
                yield return (DmaMap.Entry.Name, Key(Errno.OK, Warn.Dma32BitRollover, p));
            }
            // a PASID set's CD table and leaf (smmuv3), a scalable VT-d unit's PASID table; a bind's mm data, bond and SVA domain, and its set's table
            foreach (var site in new[] { Warn.FaultSites.ArmSmmuCdTable, Warn.FaultSites.ArmSmmuCdLeaf })
                yield return (AttachDevicePasid.Entry.Name, Key(Errno.ENOMEM, Dev(site)));
            yield return (AttachDevicePasid.Entry.Name, Key(Errno.ENODEV, Dev(Warn.FaultSites.IntelPasidTable)));
            foreach (var site in new[] { Warn.FaultSites.IommuMmData, Warn.FaultSites.SvaBond, Warn.FaultSites.Domain, Warn.FaultSites.ArmSmmuCdTable })
                yield return (SvaBind.Entry.Name, Key(Errno.ENOMEM, Dev(site)));
            // virtio's UNMAP request: 0 bytes, the range kept (under dma_unmap the short count warns)
            var unmapReq = Warn.FaultInjectionPrefix + Warn.FaultSites.ViommuUnmapReq;
            yield return (Unmap.Entry.Name, Key(Errno.OK, unmapReq));
            yield return (DmaUnmap.Entry.Name, Key(Errno.OK, unmapReq, Warn.DmaUnmapSize));
        }
    }
}
