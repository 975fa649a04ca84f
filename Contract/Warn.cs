namespace IommuConformance.Contract;

/// <summary>
/// Names of the kernel's WARN_ON sites that this contract compares as outcomes. A warning is recorded
/// where the kernel would splat, and the operation then goes on exactly as the kernel does.
/// </summary>
public static class Warn
{
    /// <summary>iommu_detach_device(): WARN_ON(domain != group->domain).</summary>
    public const string DetachDeviceDomainMismatch = "detach_device_domain_mismatch";

    /// <summary>iommu_detach_device(): WARN_ON(group has more than one device); only reached when the domain matched.</summary>
    public const string DetachDeviceNotSingleton = "detach_device_not_singleton";

    /// <summary>iommu_device_unuse_default_domain(): WARN_ON(!owner_cnt || PASIDs attached); owner_cnt is left alone.</summary>
    public const string UnuseDefaultDomainUnbalanced = "unuse_default_domain_unbalanced";

    /// <summary>iommu_device_claim_dma_owner() / iommu_group_claim_dma_owner(): WARN_ON(!owner), then -EINVAL.</summary>
    public const string ClaimDmaOwnerNull = "claim_dma_owner_null";

    /// <summary>__iommu_release_dma_ownership(): WARN_ON(!owner_cnt || !owner || PASIDs attached); nothing changes.</summary>
    public const string ReleaseDmaOwnerNotOwned = "release_dma_owner_not_owned";

    /// <summary>__iommu_group_free_device(): the group became empty while owner_cnt != 0 or domain != default_domain.</summary>
    public const string ReleaseDeviceGroupInUse = "release_device_group_in_use";

    /// <summary>iommu_setup_default_domain(): WARN_ON(first attach of the default domain failed) under MUST_SUCCEED.</summary>
    public const string DefaultDomainFirstAttachFailed = "default_domain_first_attach_failed";

    /// <summary>__iommu_group_set_domain_nofail(): WARN_ON(set-domain with MUST_SUCCEED returned an error).</summary>
    public const string SetDomainNoFailFailed = "set_domain_nofail_failed";

    /// <summary>
    /// __iommu_group_set_domain_internal() err_revert: WARN_ON(a device refused, under MUST_SUCCEED, the
    /// group->domain it is moved back to after a failed switch); one per refusing device.
    /// </summary>
    public const string SetDomainRevertFailed = "set_domain_revert_failed";

    /// <summary>
    /// __iommu_group_set_domain_internal(): WARN_ON(!new_domain), then -EINVAL: a group without a default domain
    /// (left so by an aborted bus probe) is sent back to it.
    /// </summary>
    public const string SetDomainNullDomain = "set_domain_null_domain";

    /// <summary>__iommu_probe_device(): dev_WARN "late IOMMU probe at driver bind": the probed device already has a driver.</summary>
    public const string LateProbeAtDriverBind = "late_probe_at_driver_bind";

    // ---- page tables (the IOMMU API's map / unmap / iova_to_phys, and domain free) ----

    /// <summary>io-pgtable-arm __arm_lpae_map / arm_lpae_init_pte: "We require an unmap first" (a leaf is in the way), then -EEXIST.</summary>
    public const string ArmLpaeMapExists = "arm_lpae_map_exists";

    /// <summary>io-pgtable-arm arm_lpae_map_pages: WARN_ON(iova past the IAS or paddr past the OAS), then -ERANGE.</summary>
    public const string ArmLpaeMapRange = "arm_lpae_map_range";

    /// <summary>io-pgtable-arm arm_lpae_unmap_pages: WARN_ON(iova past the IAS), then 0.</summary>
    public const string ArmLpaeUnmapRange = "arm_lpae_unmap_range";

    /// <summary>io-pgtable-arm __arm_lpae_unmap: WARN_ON(!pte): an unmap_pages call reached an empty entry (it stops there).</summary>
    public const string ArmLpaeUnmapEmpty = "arm_lpae_unmap_empty";

    /// <summary>io-pgtable-arm __arm_lpae_unmap: WARN_ONCE "Unmap of a partial large IOPTE is not allowed", then 0 (recorded every time).</summary>
    public const string ArmLpaeUnmapPartialLarge = "arm_lpae_unmap_partial_large";

    /// <summary>generic_pt map_pages: WARN_ON(!(prot &amp; (IOMMU_READ | IOMMU_WRITE))), then -EINVAL.</summary>
    public const string PtMapNoAccess = "pt_map_no_access";

    /// <summary>iommufd selftest mock_domain_map_pages: WARN_ON(old): a 2 KiB slot was mapped already (it is overwritten); once per call.</summary>
    public const string MockMapOverwrite = "mock_map_overwrite";

    /// <summary>mock_domain_unmap_pages: a slot of the range was not mapped; once per call.</summary>
    public const string MockUnmapEmpty = "mock_unmap_empty";

    /// <summary>mock_domain_unmap_pages: WARN_ON(first slot is mapped but not the first IOVA of a map_pages call).</summary>
    public const string MockUnmapNotStart = "mock_unmap_not_start";

    /// <summary>mock_domain_unmap_pages: WARN_ON(last slot is mapped but not the last IOVA of a map_pages call).</summary>
    public const string MockUnmapNotLast = "mock_unmap_not_last";

    /// <summary>mock_domain_iova_to_phys: WARN_ON(!ent): the IOVA is not mapped (it answers 0).</summary>
    public const string MockIovaToPhysUnmapped = "mock_iova_to_phys_unmapped";

    /// <summary>mock_domain_free: WARN_ON(!xa_empty(&amp;mock->pfns)): the domain is freed with mappings left.</summary>
    public const string MockFreeNotEmpty = "mock_free_not_empty";

    /// <summary>
    /// __iommu_set_group_pasid() err_revert: WARN_ON(the old domain's set_dev_pasid refused a device it is rolled back
    /// to); the PASID is blocked on that device instead.
    /// </summary>
    public const string SetDevPasidRevertFailed = "set_dev_pasid_revert_failed";

    /// <summary>Every warning name of this contract, for validation of traces and coverage tables.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        DetachDeviceDomainMismatch, DetachDeviceNotSingleton, UnuseDefaultDomainUnbalanced, ClaimDmaOwnerNull,
        ReleaseDmaOwnerNotOwned, ReleaseDeviceGroupInUse, DefaultDomainFirstAttachFailed, SetDomainNoFailFailed,
        SetDomainRevertFailed, SetDomainNullDomain, LateProbeAtDriverBind,
        ArmLpaeMapExists, ArmLpaeMapRange, ArmLpaeUnmapRange, ArmLpaeUnmapEmpty, ArmLpaeUnmapPartialLarge, PtMapNoAccess,
        MockMapOverwrite, MockUnmapEmpty, MockUnmapNotStart, MockUnmapNotLast, MockIovaToPhysUnmapped, MockFreeNotEmpty,
        SetDevPasidRevertFailed,
        DmaSetupFailed, DmaInitIncompatible, IovaFqInitFailed, Dma32BitRollover, DmaUnmapSize, DmaDebugBadUnmap, DmaMapZeroSize,
        DefaultDomainFallbackDma,
        .. FaultSites.All.Except(FaultSites.PerDevice).Select(site => FaultInjectionPrefix + site),
    ];

    /// <summary>The implementation's fault-injection sites (allocations <c>fail_nth</c> can fail), by their log names.</summary>
    public static class FaultSites
    {
        public const string IovaNode = "iova", Magazine = "iova_magazine", Rcaches = "iova_rcaches", CpuRcaches = "iova_cpu_rcaches", Fq = "iova_fq";

        /// <summary>dev_iommu_get() (kzalloc of struct dev_iommu), at a probe; the line names the device.</summary>
        public const string DevIommu = "dev_iommu";

        /// <summary>arm_smmu_probe_device()'s kzalloc of struct arm_smmu_master (ops->probe_device); names the device.</summary>
        public const string ArmSmmuMaster = "arm_smmu_master";

        /// <summary>intel_iommu_probe_device()'s kzalloc of struct device_domain_info (ops->probe_device); names the device.</summary>
        public const string DeviceDomainInfo = "device_domain_info";

        /// <summary>viommu_probe_device()'s kzalloc of struct viommu_endpoint (ops->probe_device); names the device.</summary>
        public const string ViommuEndpoint = "viommu_endpoint";

        /// <summary>viommu_probe_endpoint()'s kzalloc of the PROBE request and its property buffer; names the device.</summary>
        public const string ViommuProbe = "viommu_probe";

        /// <summary>__viommu_add_req()'s kzalloc of the PROBE request's queued copy (viommu_send_req_sync); names the device.</summary>
        public const string ViommuProbeReq = "viommu_probe_req";

        /// <summary>
        /// __viommu_add_req()'s kzalloc of an ATTACH request's queued copy (viommu_attach_dev, the identity domain's attach
        /// too; a blocked domain sends DETACH, not gated), at any switch that attaches the device; names the device.
        /// </summary>
        public const string ViommuAttachReq = "viommu_attach_req";

        /// <summary>
        /// arm_smmu_alloc_cd_tables() (the CD table of a master, and its first leaf when it has two levels), reached through
        /// arm_smmu_alloc_cd_ptr at the master's first attach to a stage-1 (paging) domain; names the device. A master keeps
        /// its table until it is released, so later attaches allocate nothing. set_dev_pasid (arm_smmu_set_pasid) allocates
        /// it too when no RID attach did.
        /// </summary>
        public const string ArmSmmuCdTable = "arm_smmu_cd_table";
        /// <summary>
        /// arm_smmu_alloc_cd_ptr()'s leaf of a two-level CD table (1,024 CDs), at the first set_dev_pasid of a PASID in a
        /// leaf not yet allocated (leaf 0 comes with the table); kept until the master is released; names the device.
        /// </summary>
        public const string ArmSmmuCdLeaf = "arm_smmu_cd_leaf";
        /// <summary>
        /// iommu_context_addr(..., alloc = 1): a legacy-mode VT-d unit's context table for bus 0, at the unit's first present
        /// context entry (a paging or identity attach; a blocking one clears and allocates nothing); -ENOMEM, nothing
        /// written; kept until the unit goes; names the device.
        /// </summary>
        public const string IntelContextTable = "intel_context_table";
        /// <summary>
        /// intel_pasid_alloc_table()'s PASID directory of a scalable-mode VT-d unit's device, in probe_device after its
        /// device_domain_info (with intel_pasid_setup_sm_context's context entry); -ENOMEM, the device unprobed; names it.
        /// </summary>
        public const string IntelPasidDir = "intel_pasid_dir";
        /// <summary>
        /// intel_pasid_get_entry()'s PASID table (64 entries) of a scalable-mode unit, at the first use of its directory
        /// slot: the first slot's at the RID's own entry (RID_PASID, the device's first attach that is not BLOCKED-typed)
        /// or a set of PASIDs 1–63, the others at a set; the setup answers -ENODEV; kept until the device is released;
        /// names the device.
        /// </summary>
        public const string IntelPasidTable = "intel_pasid_table";
        /// <summary>iommu_alloc_mm_data()'s kzalloc of struct iommu_mm_data, at an mm's first bind, before its PASID; names the device.</summary>
        public const string IommuMmData = "iommu_mm_data";
        /// <summary>iommu_sva_bind_device()'s kzalloc of the bond (struct iommu_sva), after the mm's PASID; names the device.</summary>
        public const string SvaBond = "iommu_sva";

        /// <summary>iommu_group_alloc() (kzalloc of struct iommu_group), reached through ops->device_group; names the device.</summary>
        public const string Group = "iommu_group";

        /// <summary>iommu_group_alloc_device() (kzalloc of struct group_device), at a probe; names the device.</summary>
        public const string GroupDevice = "group_device";

        /// <summary>ops->domain_alloc_paging's struct (the driver's domain); names the device it was asked for.</summary>
        public const string Domain = "iommu_domain";

        /// <summary>iommu_get_dma_cookie() (kzalloc of the IOVA cookie) for a new DMA domain; names the device.</summary>
        public const string Cookie = "iommu_dma_cookie";

        /// <summary>iommu_alloc_pages_node_sz() of an io-pgtable's table page met by a map.</summary>
        public const string TablePage = "iommu_pages";

        /// <summary>
        /// iommu_alloc_pages_node_sz() of a new paging domain's top-level table (__arm_lpae_alloc_pages of the pgd,
        /// pt_iommu_init's top table, the mock's root) inside ops->domain_alloc_paging; names the device, as the domain's does.
        /// </summary>
        public const string TableRoot = "iommu_pages_root";

        /// <summary>viommu_add_mapping()'s kzalloc of a node of virtio-iommu's mapping tree, at a map.</summary>
        public const string ViommuMapping = "viommu_mapping";

        /// <summary>__viommu_add_req()'s kzalloc of a MAP request's buffer, at a map into a domain with endpoints.</summary>
        public const string ViommuMapReq = "viommu_map_req";

        /// <summary>
        /// __viommu_add_req()'s kzalloc of an UNMAP request's buffer, at an unmap (iommu_unmap, or dma_unmap's) of a domain
        /// with endpoints: the request is not sent, viommu_unmap_pages answers 0, and the device keeps the mapping.
        /// </summary>
        public const string ViommuUnmapReq = "viommu_unmap_req";

        public static readonly IReadOnlyList<string> All =
            [IovaNode, Magazine, Rcaches, CpuRcaches, Fq, DevIommu, ArmSmmuMaster, DeviceDomainInfo, ViommuEndpoint, ViommuProbe, ViommuProbeReq,
             ViommuAttachReq, ArmSmmuCdTable, ArmSmmuCdLeaf, IntelContextTable, IntelPasidDir, IntelPasidTable, IommuMmData, SvaBond, Group, GroupDevice, Domain, Cookie, TablePage, TableRoot, ViommuMapping, ViommuMapReq, ViommuUnmapReq];

        /// <summary>
        /// The IOVA allocator's and the flush queue's sites, whose line names the device when they are met at that device's
        /// DMA set-up (iommu_dma_init_domain: <c>fault_injection_iova_rcaches@dev1</c>) and no device elsewhere (a
        /// <c>dma_map</c>'s node, an unmap's magazine, the sysfs DMA → DMA-FQ flip's queue).
        /// </summary>
        public static readonly IReadOnlyList<string> AtSetup = [IovaNode, Magazine, Rcaches, CpuRcaches, Fq];

        /// <summary>The sites of a driver's attach_dev (DriverCapabilities.AttachSites): met at any operation that switches a device's domain.</summary>
        public static readonly IReadOnlyList<string> AtAttach = [ViommuAttachReq, ArmSmmuCdTable, IntelContextTable, IntelPasidTable];
        /// <summary>
        /// The sites a PASID operation (attach_device_pasid, replace_device_pasid, sva_bind) meets: the driver's in
        /// set_dev_pasid (its PASID table, a leaf of it) and, at a bind, the core's and the SVA domain's structures.
        /// </summary>
        public static readonly IReadOnlyList<string> AtPasid = [ArmSmmuCdTable, ArmSmmuCdLeaf, IntelPasidTable, IommuMmData, SvaBond, Domain];

        /// <summary>The sites whose line names the device they were met for (<see cref="Line"/>).</summary>
        public static readonly IReadOnlyList<string> PerDevice =
            [DevIommu, ArmSmmuMaster, DeviceDomainInfo, ViommuEndpoint, ViommuProbe, ViommuProbeReq, ViommuAttachReq, ArmSmmuCdTable, ArmSmmuCdLeaf,
             IntelContextTable, IntelPasidDir, IntelPasidTable, IommuMmData, SvaBond, Group, GroupDevice, Domain,
             Cookie, TableRoot];

        /// <summary>The gate's site key: the site, then <c>@</c> and the device for a per-device site.</summary>
        public static string Key(string site, string? dev) => dev is null ? site : site + "@" + dev;

        /// <summary>
        /// Splits a fault-injection line (<c>fault_injection_SITE</c> or <c>fault_injection_SITE@DEV</c>) into its site and
        /// device; false for any other line.
        /// </summary>
        public static bool TryParse(string line, out string site, out string? dev)
        {
            site = "";
            dev = null;
            if (!line.StartsWith(FaultInjectionPrefix, StringComparison.Ordinal)) return false;
            var key = line[FaultInjectionPrefix.Length..];
            var at = key.IndexOf('@', StringComparison.Ordinal);
            site = at < 0 ? key : key[..at];
            dev = at < 0 ? null : key[(at + 1)..];
            return at < 0 ? All.Contains(site) && !PerDevice.Contains(site) : (PerDevice.Contains(site) || AtSetup.Contains(site)) && dev!.Length > 0;
        }
    }

    /// <summary>Whether <paramref name="line"/> is a warning of this contract (a name in <see cref="All"/>, or a per-device fault line).</summary>
    public static bool IsKnown(string line) =>
        All.Contains(line) || (FaultSites.TryParse(line, out _, out var dev) && dev is not null);

    // ---- the DMA API (dma-iommu.c) and fault injection: kernel log lines the contract compares like WARNs ----

    /// <summary>iommu_setup_dma_ops(): iommu_dma_init_domain() failed, "retaining platform DMA ops" (pr_warn; the device maps 1:1).</summary>
    public const string DmaSetupFailed = "dma_setup_failed";

    /// <summary>iommu_dma_init_domain(): "Incompatible range for DMA domain" (pr_warn), -EFAULT.</summary>
    public const string DmaInitIncompatible = "dma_init_incompatible_range";

    /// <summary>iommu_dma_init_fq(): "iova flush queue initialization failed" (pr_warn); the domain stays (or becomes) strict.</summary>
    public const string IovaFqInitFailed = "iova_fq_init_failed";

    /// <summary>iommu_dma_alloc_iova(): the 32-bit try failed, "Using N-bit DMA addresses" (dev_notice); the workaround is off.</summary>
    public const string Dma32BitRollover = "dma_32bit_rollover";

    /// <summary>__iommu_dma_unmap(): WARN_ON(unmapped != size).</summary>
    public const string DmaUnmapSize = "dma_unmap_size_mismatch";

    /// <summary>dma-debug check_unmap(): the driver frees DMA memory it has not mapped, or with another size or direction.</summary>
    public const string DmaDebugBadUnmap = "dma_debug_bad_unmap";

    /// <summary>
    /// iommu_group_alloc_default_domain(): the global default type could not be allocated, "Failed to allocate default IOMMU
    /// domain of type %u for group %s - Falling back to IOMMU_DOMAIN_DMA" (pr_warn); the group gets a DMA domain.
    /// </summary>
    public const string DefaultDomainFallbackDma = "default_domain_fallback_dma";

    /// <summary>Ours: dma_map of size 0 (the kernel rounds it to an undefined shift); answered DMA_MAPPING_ERROR.</summary>
    public const string DmaMapZeroSize = "dma_map_zero_size";

    /// <summary>
    /// failslab's "FAULT_INJECTION: forcing a failure." with the stack: the prefix, then the allocation site
    /// (<c>fault_injection_iova_rcaches</c>), so a trace shows which allocation <c>fail_nth</c> met.
    /// </summary>
    public const string FaultInjectionPrefix = "fault_injection_";
}
