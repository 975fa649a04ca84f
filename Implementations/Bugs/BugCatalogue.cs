using IommuConformance.Contract;

namespace IommuConformance.Implementations.Bugs;

/// <summary>
/// The seeded-bug catalogue: every switch the implementation carries, off by default. Each entry's name is
/// the switch checked at the one line it perturbs (see <see cref="BugSwitches"/>); docs/seeded-bugs.md
/// explains each one with the invariant or outcome that catches it.
/// </summary>
public static class BugCatalogue
{
    public const string FreshDomainEinval = "fresh_domain_einval";
    public const string NoOwnerGatekeeper = "no_owner_gatekeeper";
    public const string AttachGroupReplacesUserDomain = "attach_group_replaces_user_domain";
    public const string ClaimOwnerNullLeaksGroup = "claim_owner_null_leaks_group";
    public const string ReleaseFreesDomainsBeforeDriverRelease = "release_frees_domains_before_driver_release";
    public const string HotAddSkipsOwnedGroupAttach = "hot_add_skips_owned_group_attach";
    public const string RequireDirectBlockingAllowed = "require_direct_blocking_allowed";
    public const string SysfsTypeIgnoresOwner = "sysfs_type_ignores_owner";
    public const string UntrustedNotForcedDma = "untrusted_not_forced_dma";
    public const string DefaultDomainReplaceLeaksOld = "default_domain_replace_leaks_old";
    public const string StreamTableAlias = "stream_table_alias";
    public const string RangeInvalFirstPage = "range_inval_first_page";
    public const string SplitOnPartialUnmap = "split_on_partial_unmap";
    public const string OvermapAccepted = "overmap_accepted";
    public const string TlbiWithoutSync = "tlbi_without_sync";
    public const string CdChangeSkipsCfgi = "move_skips_cfgi_cd";
    public const string TableFreeLeafTlbi = "table_free_leaf_tlbi";
    public const string PartialUnmapInvalRequestedOnly = "partial_unmap_inval_requested_only";
    public const string RangeTlbiTtlNumScaleZero = "range_tlbi_ttl_num_scale_zero";
    public const string MalformedCmdNotLatched = "malformed_cmd_not_latched";
    public const string SvaBondNotRecorded = "sva_bond_not_recorded";
    public const string HandleGetBusyAsFree = "handle_get_busy_as_free";
    public const string SvaDomainNoOwner = "sva_domain_no_owner";
    public const string PasidFreedOnUnbind = "pasid_freed_on_unbind";
    public const string ReplacePasidLosesOld = "replace_pasid_loses_old";
    public const string PasidZeroAccepted = "pasid_zero_accepted";
    public const string RcacheInitLeavesStartPfn = "rcache_init_leaves_start_pfn";
    public const string NoCookieMutex = "no_cookie_mutex";
    public const string AllocIovaNoOverflowGuard = "alloc_iova_no_overflow_guard";
    public const string FastAllocUnaligned = "fast_alloc_unaligned";
    public const string FqQueuedAndFreed = "fq_queued_and_freed";
    public const string FqFreeBeforeFlush = "fq_free_before_flush";
    public const string FqWithoutDeferredFlush = "fq_without_deferred_flush";
    public const string MagazineUseAfterFailedAlloc = "magazine_use_after_failed_alloc";
    public const string FqTimerAfterFree = "fq_timer_after_free";
    public const string RolloverNeverRearmed = "rollover_never_rearmed";
    public const string PasidCdSkipsCfgi = "pasid_cd_skips_cfgi";
    public const string MapFailureNotUnwound = "map_failure_not_unwound";
    public const string PasidTeardownSkipsPcInv = "pasid_teardown_skips_pc_inv";
    public const string ViommuAttachDropsEndpointEarly = "viommu_attach_drops_endpoint_early";
    public const string ViommuUnmapForgetsOnFailedReq = "viommu_unmap_forgets_on_failed_req";

    public static IReadOnlyList<SeededBug> All { get; } =
    [
        new(FreshDomainEinval,
            "synthetic, after the pre-6.8 lazy finalise in arm_smmu_attach_dev(); the attach_dev -EINVAL contract (Nicolin Chen, v6.2)",
            "smmuv3 attach_dev inverts its finalise test and refuses a user paging domain that was never attached (c.22)",
            "probe dev0; domain_alloc_paging dev0 as d1; attach_device d1 dev0 -> OK expected, EINVAL buggy", 3),
        new(NoOwnerGatekeeper,
            "v6.2 __iommu_attach_group() had no ops check; a9c362db3920 \"iommu: Validate that devices match domains\" added it",
            "__iommu_attach_group skips domain->owner != ops; the foreign driver's attach_dev accepts the domain (c.8)",
            "probe devA (smmuv3); probe devB (mock); domain_alloc_paging devB as d1; attach_device d1 devA -> EINVAL expected; "
            + "shorter with both on one bus: bus_probe platform; domain_alloc_paging devB as d1; attach_group d1 devA", 3),
        new(AttachGroupReplacesUserDomain,
            "kernel-semantics §d#16 (design hazard: attach over a non-core domain)",
            "__iommu_attach_group skips the -EBUSY rule for a group on a user domain",
            "probe dev0; domain_alloc_paging dev0 as d1; attach_group d1 dev0; attach_group d1 dev0 -> EBUSY expected", 4),
        new(ClaimOwnerNullLeaksGroup,
            "a6a9a5da6808 \"iommu: Fix refcount leak in iommu_device_claim_dma_owner\" (v6.2-rc4), §d#7",
            "iommu_device_claim_dma_owner takes a group reference before the NULL-owner check and does not put it on "
            + "that -EINVAL path; answers and check order are unchanged",
            "probe dev0; claim_dma_owner dev0 null -> EINVAL [claim_dma_owner_null] on both sides, but the group's "
            + "refcount is members+1 after the step (c.21; c.10 sees the failed step change it); a later release dev0 "
            + "leaves the group live without members (c.6)", 2),
        new(ReleaseFreesDomainsBeforeDriverRelease,
            "\"iommu: Fix ordering of iommu_release_device()\" (Jason Gunthorpe, 2022), §d#6",
            "iommu_deinit_device frees the group's domains before the release_domain attach and ops->release_device",
            "probe dev0 (smmuv3); release dev0 -> STE still translates through the freed default domain (c.9)", 2),
        new(HotAddSkipsOwnedGroupAttach,
            "6.2-era iommu_probe_device(): \"If device joined an existing group which has been claimed, don't attach\", §d#10",
            "a device joining an owned group is attached to nothing",
            "probe devA; claim_group_dma_owner devA o1; probe devB (same group) -> devB's STE is empty (c.2)", 3),
        new(RequireDirectBlockingAllowed,
            "synthetic: the require_direct test of __iommu_device_set_domain() (0286300e6045 era) removed",
            "a require_direct device may be parked on a blocking domain",
            "probe dev0 (mock, requireDirect) -> EINVAL [default_domain_first_attach_failed] expected, OK buggy (the static "
            + "BLOCKED default is accepted); on smmuv3: probe; claim_dma_owner dev0 o1 -> EINVAL expected (c.7)", 1),
        new(SysfsTypeIgnoresOwner,
            "synthetic: iommu_group_store_type() without its owner_cnt test (the ≤5.19 code tested a bound driver instead)",
            "the sysfs type change proceeds while the group has users",
            "probe dev0; driver_bind dev0; group_type_write dev0 identity -> EPERM expected", 3),
        new(UntrustedNotForcedDma,
            "synthetic: iommu_get_default_domain_type() without its untrusted-device test",
            "an untrusted PCI device gets the global default type instead of strict DMA",
            "config defaultDomain identity; probe dev0 (pci, untrusted) -> the group's type reads \"DMA\" in the model, "
            + "\"identity\" here (observed after the step; or by an explicit group_type_read)", 1),
        new(DefaultDomainReplaceLeaksOld,
            "synthetic: iommu_setup_default_domain() without its out_free_old step (the sysfs type change path)",
            "the default domain replaced by a sysfs type change is never freed",
            "probe dev0 (smmuv3); group_type_write dev0 identity -> the old DMA-FQ default stays allocated, held by nobody (c.19)", 2),
        new(StreamTableAlias,
            "synthetic, after a linear stream table sized below the stream-id range (arm-smmu-v3 sizes it from SMMU_IDR1.SIDSIZE)",
            "the emulated smmuv3 stream table has 2 STEs indexed by stream id mod 2 (stream id = index among the instance's "
            + "devices in topology order): writing one device's STE overwrites every colliding device's, and only the "
            + "device written is reported touched",
            "devices dev0, dev1, dev2 on smmu0 in three groups: probe dev0 -> the aliased slot gives the unprobed dev2 "
            + "dev0's STE, unreported in the touched set (found by a sweep; the full re-run names the probe); probe dev2 "
            + "-> dev0's STE translates through dev2's default domain (c.2)", 1),
        new(RangeInvalFirstPage,
            "Robin Murphy 2015, \"iommu/arm-smmu: Invalidate TLBs properly\" (a TLBI by VA was issued only for the first IOVA of a "
            + "multi-page range; an address-based TLBI hits one entry)",
            "smmuv3 arm_smmu_tlb_inv_range_asid issues one TLBI_NH_VA for the first 4K page of the gathered range, whatever its size",
            "probe dev0; domain_alloc_paging dev0 as d1; attach_device d1 dev0; map d1 X 8K; device_dma dev0 X+4K (caches the "
            + "second leaf); unmap d1 X 8K; device_dma dev0 X+4K -> EIO translation expected, OK phys (stale IOTLB) buggy; 6 steps "
            + "without the last DMA: the isolation check sees the stale IOTLB entry at the unmap", 6,
            [DriverNames.Smmuv3]),
        new(SplitOnPartialUnmap,
            "io-pgtable-arm before 33729a5fc0ca / fd50651636fb (Jason Gunthorpe, Nov 2024): arm_lpae_split_blk_unmap",
            "an unmap of part of an LPAE block splits the block into a table of smaller leaves and unmaps the part, instead of "
            + "warning arm_lpae_unmap_partial_large and answering 0",
            "probe dev0; domain_alloc_paging dev0 as d1; map d1 X 2M; unmap d1 X 4K -> OK 0x0 [arm_lpae_unmap_partial_large] "
            + "expected, OK 0x1000 buggy", 4, [DriverNames.Smmuv3]),
        new(OvermapAccepted,
            "synthetic, after io-pgtable-arm's arm_lpae_init_pte without its \"We require an unmap first\" test",
            "a map over an existing LPAE leaf of the same size overwrites it instead of answering EEXIST [arm_lpae_map_exists]",
            "probe dev0; domain_alloc_paging dev0 as d1; map d1 X 4K; map d1 X 4K -> EEXIST [arm_lpae_map_exists] expected, OK buggy", 4,
            [DriverNames.Smmuv3]),
        new(TlbiWithoutSync,
            "synthetic, after arm_smmu_cmdq_issue_cmdlist(..., sync=false) on the unmap path: the SMMU completes a TLBI only at a "
            + "later CMD_SYNC (SMMUv3 spec §4.6.3; QEMU smmuv3 applies invalidations as it consumes them, so it cannot show this)",
            "smmuv3 arm_smmu_tlb_inv_range_asid queues its TLBI_NH_VA commands without the CMD_SYNC; the table pages are freed "
            + "and the unmap returns while the invalidation is still pending",
            "through the DMA API (strict default domain): probe dev0; dma_map dev0 as i1; device_dma dev0 i1 (fills the IOTLB); "
            + "dma_unmap i1 -> the isolation check sees the stale IOTLB entry at the unmap (4 steps); through the IOMMU API: probe; "
            + "domain_alloc_paging as d1; attach_device d1 dev0; map d1 X 4K; device_dma dev0 X; unmap d1 X 4K (6)", 4, [DriverNames.Smmuv3]),
        new(CdChangeSkipsCfgi,
            "synthetic, after arm_smmu_write_cd_entry without its CFGI_CD sync (arm_smmu_write_entry's sync of a changed CD)",
            "a device moved between two stage-1 domains keeps its STE and gets a new CD (ASID, TTB0) in memory, but no CFGI_CD: "
            + "the SMMU's cached config still translates through the old domain",
            "probe dev0 (a DMA default domain); device_dma dev0 0 (caches its config); group_type_write dev0 auto (a new default "
            + "domain, a new CD) -> the isolation check sees the cached config of the freed domain (3 steps); with a user domain: probe; "
            + "domain_alloc_paging as d1; map d1 X 4K; device_dma dev0 Y; attach_device d1 dev0; device_dma dev0 X (6)", 3,
            [DriverNames.Smmuv3]),
        new(TableFreeLeafTlbi,
            "synthetic, after io-pgtable-arm's io_pgtable_tlb_flush_walk (arm_smmu_tlb_inv_walk, Leaf = 0) before a table page is "
            + "freed; generic_pt frees table pages only after the IOTLB sync (hardware-and-peers.md §6 S6)",
            "the smmuv3 iotlb_sync of a gather that unlinked table pages issues a Leaf = 1 TLBI, so the SMMU's walk cache keeps "
            + "pointing at the table page the driver then frees (unbacked, or reused by the next table allocation)",
            "probe dev0; domain_alloc_paging dev0 as d1; attach_device d1 dev0; map d1 W+4K 4K; device_dma dev0 W+4K (caches the "
            + "walk through W's table); map d1 W 2M (the block replaces that table, freed); device_dma dev0 W+4K -> OK phys of "
            + "the block expected, EIO translation (walk through the freed table) buggy; 6 steps without the last DMA: the SMMU "
            + "reports the table page freed while its walk cache holds it at the 2M map", 6, [DriverNames.Smmuv3]),
        new(PartialUnmapInvalRequestedOnly,
            "synthetic, after generic_pt's gather_range_pages (it gathers the requested range; the removed leaf can reach past "
            + "it) and the spec's note that the invalidation must cover what an unmap removed",
            "vtd: an unmap from the start of a 2M leaf removes the whole leaf and answers its size, but the page-selective "
            + "invalidation covers only the range asked, so a splintered IOTLB entry of the leaf's other pages survives",
            "probe dev0; domain_alloc_paging dev0 as d1; attach_device d1 dev0; map d1 A 2M; device_dma dev0 A+4K (caches that "
            + "page of the leaf); unmap d1 A 4K (answers 0x200000); device_dma dev0 A+4K -> EIO translation expected, OK phys "
            + "(stale IOTLB) buggy; 6 steps without the last DMA: the isolation check sees the stale entry at the unmap", 6,
            [DriverNames.Vtd]),
        new(RangeTlbiTtlNumScaleZero,
            "eb6c97647be2 \"iommu/arm-smmu-v3: Avoid constructing invalid range commands\" (v6.6), fixing 6833b8f2e199 "
            + "\"Set TTL invalidation hint better\" (non-leaf range invalidations leave TTL 0)",
            "smmuv3 arm_smmu_tlb_inv_range_cmd: a non-leaf range whose page count is 1 modulo 32 starts with a one-page TLBI_NH_VA "
            + "of TTL = NUM = SCALE = 0, which the SMMU refuses (CERROR_ILL); arm_smmu_cmdq_skip_err logs \"CMDQ error\" and the "
            + "page's invalidation is lost",
            "probe dev0; domain_alloc_paging dev0 as d1; map d1 X+4K 2M (a table over [X, X+2M) and one page past it); "
            + "unmap d1 X 2M+4K (unlinks the table: a non-leaf range of 513 pages) -> the hardware error \"CMDQ error ... Ill\"", 4,
            [DriverNames.Smmuv3]),
        new(SvaBondNotRecorded,
            "6384c56c99d9 \"iommu/sva: Fix SVA handle sharing in multi device case\" (v6.8-rc7), §d#9; in 7.0 terms: the "
            + "reused domain's PASID entry is stored without the bond's attach handle",
            "iommu_sva_bind_device attaches an existing SVA domain of the mm without the bond's handle, so a later bind through "
            + "that group does not find the bond (a bare entry is -ENOENT), tries a fresh attach and meets the occupied slot",
            "bus_probe pci (devA, devB: two groups of one instance); mm_new mm1; sva_bind devA mm1 as h1; sva_bind devB mm1 as h2 "
            + "(reuses the domain: its PASID slot is a bare domain, which the PASID check sees at once); sva_bind devB mm1 as h3 "
            + "-> OK (shared bond) expected, EBUSY buggy", 4),
        new(HandleGetBusyAsFree,
            "kernel-semantics b.10 / the review of the attach-handle conversion: what iommu_attach_handle_get answers for a "
            + "PASID that holds another type of domain",
            "iommu_attach_handle_get answers -ENOENT (free) instead of -EBUSY for a slot whose domain is of another type, so "
            + "the SVA bind goes on past the lookup",
            "probe dev0 (mock, PASIDs); domain_alloc_paging dev0 as d1; attach_device_pasid d1 dev0 1; mm_new mm1; sva_bind "
            + "dev0 mm1 as h1 -> EBUSY expected, EOPNOTSUPP buggy (the mock has no domain_alloc_sva)", 5),
        new(SvaDomainNoOwner,
            "\"iommu: Set owner token to SVA domain\" (Lu Baolu, Dec 2023, fixes a9c362db3920), §d#17",
            "iommu_sva_domain_alloc does not set domain->owner, so the PASID attach's compatibility check refuses every fresh SVA domain",
            "probe dev0 (smmuv3 or vtd, PASIDs); mm_new mm1; sva_bind dev0 mm1 as h1 -> OK expected, EINVAL buggy", 3),
        new(PasidFreedOnUnbind,
            "synthetic, after the pre-6.8 SVA rework question of who owns the mm's PASID (it is the mm's until mm_pasid_drop)",
            "iommu_sva_unbind_device frees the mm's global PASID with the last reference of a bond, though the mm keeps it",
            "dev0 with maxPasids 2 (PASIDs 1 only): probe dev0; mm_new mm1; sva_bind dev0 mm1 as h1; sva_unbind h1; mm_new mm2; "
            + "sva_bind dev0 mm2 as h2 -> ENOSPC expected (mm1 keeps PASID 1), OK buggy", 6),
        new(ReplacePasidLosesOld,
            "iommufd selftest pasid_attach (\"PASID 1024 replace failure must keep the old domain\"), §e.3",
            "iommu_replace_device_pasid on a driver refusal blocks the PASID and erases the slot instead of rolling back to the old domain",
            "probe dev0 (mock, PASIDs); domain_alloc_paging dev0 as d1; attach_device_pasid d1 dev0 1024 (arms the injector); "
            + "domain_alloc_paging dev0 as d2; replace_device_pasid d2 dev0 1024 -> ENOMEM on both sides, but the slot is gone "
            + "(c.10: the failed step changed the group's PASID array; a later attach_device_pasid d1 dev0 1024 answers OK, not EBUSY)", 5),
        new(PasidZeroAccepted,
            "synthetic: iommu_attach_device_pasid without its IOMMU_NO_PASID test",
            "a PASID attach to PASID 0 (the RID's slot) is accepted",
            "probe dev0 (PASID-capable driver); domain_alloc_paging dev0 as d1; attach_device_pasid d1 dev0 0 -> EINVAL expected, OK buggy", 3),
        new(RcacheInitLeavesStartPfn,
            "mainline iommu_dma_init_domain(): a failed iova_domain_init_rcaches() returns -ENOMEM with start_pfn set (John Garry / "
            + "Robin Murphy, \"iova: Remove some magazine pointer NULL checks\", 2022: \"its probe would be ok as the start_pfn is set. "
            + "Not good.\"), §d#2",
            "the IOVA domain keeps start_pfn after its rcaches failed; the next device of the group finds it initialised, gets "
            + "iommu DMA ops with rcaches == NULL, and its first dma_map dereferences them (an oops)",
            "fail_nth 11 (after both devices' structures, the domain, its table root and the cookie); bus_probe pci (devA, devB in one group: devA's set-up fails [fault_injection_iova_rcaches, "
            + "dma_setup_failed], devB's \"succeeds\"); dma_map devB -> an IOVA expected, an oops buggy (with hot probes, 4: fail_nth 8; probe devA; probe devB; "
            + "dma_map devB)", 3),
        new(FqFreeBeforeFlush,
            "synthetic, after §d#15 (the flush-queue counter rule: an entry is freed only after a flush that started after it "
            + "was queued has finished)",
            "queue_iova stamps an entry with finish_cnt − 1, so the next ring free releases it before any IOTLB flush",
            "probe dev0; dma_map dev0 as i1; dma_unmap i1 -> the entry is stamped with flush count -1 where its enqueue saw 0 "
            + "(c.17 on the implementation); through outcomes alone, 6: ...; dma_map dev0 as i2; dma_unmap i2 (frees i1's entry "
            + "into the rcache); dma_map dev0 (same size) -> a fresh IOVA expected, i1's queued IOVA buggy (the model's c.17)", 3),
        new(FqWithoutDeferredFlush,
            "\"iommu: Use flush queue capability\" (6.4) undone, §d#13",
            "iommu_dma_init_domain sets up the flush queue without consulting IOMMU_CAP_DEFERRED_FLUSH",
            "instance option deferredFlush false, config defaultDomain DMA-FQ: probe dev0 -> the type reads \"DMA\" in the model, "
            + "\"DMA-FQ\" here (observed after the step)", 1),
        new(FqTimerAfterFree,
            "\"iommu/iova: Fix race between FQ timeout and teardown\" (d7061627d701, v5.16), §d#5, reachable sequentially: the "
            + "timer is not deleted (del_timer without _sync, the callback not yet run) when the domain goes",
            "iommu_dma_free_fq leaves the flush-queue timer pending; its expiry runs on the freed cookie (an oops)",
            "probe dev0 (DMA-FQ); dma_map dev0 as i1; dma_unmap i1 (arms the 10 ms timer) -> the teardown after the trace frees "
            + "the domain and its cookie stays with the timer pending (c.19); through an outcome, 5: ...; release dev0; tick 10 -> "
            + "OK expected, an oops buggy", 3),
        new(RolloverNeverRearmed,
            "synthetic, after iommu_setup_dma_ops() re-arming pci_32bit_workaround (\"iommu/dma: Reset the 32-bit workaround\" "
            + "semantics of the rollover, kernel-semantics b.8)",
            "only the first iommu_setup_dma_ops() of a PCI device arms the 32-bit-first workaround; after a rollover a type change "
            + "no longer re-arms it",
            "probe dev0 (pci); fail_nth 1; dma_map dev0 (the 32-bit try fails: [fault_injection_iova, dma_32bit_rollover]); "
            + "group_type_write dev0 DMA; dma_map dev0 -> below 4 GiB expected, above it without the rollover notice buggy", 5),
        new(MagazineUseAfterFailedAlloc,
            "pre-6.1 init_iova_rcaches() (WARN and go on with a NULL magazine) before \"iova: Remove some magazine pointer NULL "
            + "checks\" made the failure fatal, §d#14",
            "iova_domain_init_rcaches ignores a failed magazine allocation: the DMA set-up succeeds and the CPU's cache holds a "
            + "NULL magazine, which its first fast allocation or free dereferences",
            "fail_nth 10 (the first magazine, after dev_iommu, the master, group, group_device, domain, table root, cookie, rcaches, cpu rcaches); probe dev0 -> [fault_injection_iova_magazine, dma_setup_failed] expected, the "
            + "set-up succeeding buggy (a dma_map on CPU 0 then oopses)", 2),
        new(NoCookieMutex,
            "ac9a5d522bb8 \"iommu/dma: Fix race condition during iova_domain initialization\" (v6.0) undone, §d#1; of the era when "
            + "iommu_setup_dma_ops() ran from each device's dma_configure() without the group mutex",
            "iommu_dma_init_domain's start_pfn check and init_iova_domain are not serialised: at a bus probe the members of a "
            + "group set up as concurrent probes would in their worst interleaving (every member checks start_pfn, then each "
            + "initialises), so the second init_iova_domain resets the domain over the first's, whose rcaches and nodes are lost",
            "bus_probe pci (dev0, dev1 in one group) -> every answer OK, but after the teardown that ends every property trace "
            + "an IOVA domain was never put (its magazines and nodes leaked)", 1),
        new(AllocIovaNoOverflowGuard,
            "dcdb3ba7e2a8 \"iommu/iova: Fix alloc iova overflows issue\" (v6.2-rc4, Yunfei Wang) undone, §d#4",
            "__alloc_and_insert_iova_range() without the high_pfn < size guard and with retry_pfn = pfn_hi + 1, which wraps to 0 "
            + "on the anchor: a request larger than the space below the limit, with the cached node on the anchor, retries "
            + "down to pfn 0 and inserts a node below start_pfn (alloc_iova_fast returns its pfn 0: a failure to the caller)",
            "probe dev0; dma_map dev0 16 MiB with a 24-bit mask -> DMA_MAPPING_ERROR on both sides, but the IOVA tree holds "
            + "[0, 0xfff] below start_pfn 1 (c.13 on the implementation); a further 4 KiB map with that mask fails (3)", 2),
        new(FastAllocUnaligned,
            "synthetic: alloc_iova_fast() has asked for size-aligned ranges since the rcaches came (9257b4a206fc); c.14",
            "alloc_iova_fast's tree fallback calls alloc_iova with size_aligned false, so a range of two or more granules may "
            + "start at any pfn below the cached node",
            "probe dev0; dma_map dev0 33 pages (not rounded: 32 or more) -> 0xfffc0000 (aligned to 64 pages) expected, "
            + "0xfffdf000 buggy (c.14 on the implementation; the model's allowed set refuses it too)", 2),
        new(FqQueuedAndFreed,
            "synthetic: a lazy unmap that queues its IOVA and frees it to the rcache as well; c.15",
            "iommu_dma_free_iova() of a queued unmap also calls free_iova_fast(), so the pfn is in the flush queue and in a "
            + "magazine at once, and the next map of its size reuses it before the flush",
            "probe dev0; dma_map dev0 as i1; dma_unmap i1 (lazy) -> the pfn is queued and cached (c.15 on the implementation); "
            + "a further dma_map of the size on that CPU returns it while queued (the model's c.17, 4)", 3),
        new(PasidCdSkipsCfgi,
            "synthetic, after arm_smmu_write_cd_entry for a substream without arm_smmu_sync_cd (CMDQ_OP_CFGI_CD with the SSID); "
            + "the SMMU may cache any CD it fetched (SMMUv3 §4.3.7)",
            "smmuv3 set_dev_pasid (a paging or SVA domain, or the blocked domain clearing the CD) writes the substream's CD but "
            + "issues no CFGI_CD: a CD the SMMU cached at an earlier PASID-tagged DMA stays in use",
            "probe dev0; domain_alloc_paging dev0 as d1; map d1 X 4K; attach_device_pasid d1 dev0 1; device_dma dev0 X pasid 1 "
            + "(caches CD 1); detach_device_pasid d1 dev0 1 (CD 1 cleared, still cached) -> the PASID isolation check sees the "
            + "cached CD reach X's page (6 steps; through SVA: probe; mm_new; mm_map; sva_bind; device_dma; sva_unbind, also 6)", 6,
            [DriverNames.Smmuv3]),
        new(MapFailureNotUnwound,
            "synthetic: __iommu_map() without its \"unroll mapping in case something went wrong\" (the core's rule since the "
            + "page-size split of iommu_map; the map_pages accounting keeps even a failing call's pages for it: \"Some pages may "
            + "have been mapped, even if an error occurred\"); issue #7 item 3",
            "a map whose later chunk fails (a table page's -ENOMEM from fail_nth) answers -ENOMEM but leaves the chunks before "
            + "it mapped",
            "probe dev0 (smmuv3); domain_alloc_paging dev0 as d1; fail_nth 4 (the fourth table page: the second chunk's "
            + "last-level table); map d1 0x1ff000 8 KiB -> ENOMEM [fault_injection_iommu_pages] on both sides; iova_to_phys d1 "
            + "0x1ff000 -> 0 expected, the first chunk's page buggy", 5, [DriverNames.Smmuv3, DriverNames.Vtd, DriverNames.Mock]),
        new(PasidTeardownSkipsPcInv,
            "synthetic: intel_pasid_tear_down_entry without pasid_cache_invalidation_with_pasid (VT-d 4.x §6.5.2.6: software "
            + "must invalidate the PASID cache after changing a present PASID entry); the vtd analogue of pasid_cd_skips_cfgi",
            "vtd scalable mode: tearing down the entry of a PASID other than RID_PASID (the blocked domain's set_dev_pasid at "
            + "sva_unbind or detach_device_pasid, intel_mm_release at mm_exit) clears it and flushes the IOTLB but issues no "
            + "pc_inv_dsc: a PASID entry the unit cached at an earlier PASID-tagged DMA stays in use",
            "probe dev0 (scalable vtd); mm_new mm1; mm_map mm1 X 4K; sva_bind dev0 mm1; device_dma dev0 X pasid 1 (caches the "
            + "PASID entry); sva_unbind (entry cleared, still cached) -> the PASID isolation check sees the cached entry reach X's "
            + "page through the live mm (6 steps; through a paging domain: probe; domain_alloc_paging; map; attach_device_pasid; "
            + "device_dma; detach_device_pasid, also 6)", 6, [DriverNames.Vtd], Scalable: true),
        new(ViommuAttachDropsEndpointEarly,
            "mainline viommu_attach_dev(): \"if (vdev->vdomain) vdev->vdomain->nr_endpoints--;\" before viommu_send_attach_req, whose "
            + "__viommu_add_req may fail (kzalloc, GFP_ATOMIC); found by this suite when the ATTACH request asked the fault gate",
            "a failed ATTACH leaves the old domain one endpoint short while the endpoint is still on it; the core's revert attaches "
            + "it there again through the same path (short once more, then one back), so the domain the device is on counts no "
            + "endpoint: the device re-created it empty and the driver replays nothing, and later maps and unmaps send no request",
            "probe dev0 (virtio); domain_alloc_paging dev0 as d1; dma_map dev0; fail_nth 1; attach_group d1 dev0 -> ENOMEM "
            + "[fault_injection_viommu_attach_req@dev0] on both sides, but the device's mapping is gone (the isolation check, "
            + "or a device_dma at the IOVA: OK expected, a translation fault buggy)", 5, [DriverNames.Virtio]),
        new(ViommuUnmapForgetsOnFailedReq,
            "mainline viommu_unmap_pages(): viommu_del_mappings() before viommu_add_req(), whose __viommu_add_req may fail "
            + "(kzalloc, GFP_ATOMIC) and then answers 0; found by this suite when the UNMAP request asked the fault gate",
            "an UNMAP request that cannot be queued leaves the mapping in the device and gone from the driver's tree: the "
            + "driver and its hardware disagree (iova_to_phys answers 0 while a DMA still reaches the page, and a later map "
            + "of the range is refused by the device)",
            "probe dev0 (virtio); dma_map dev0 as i1; fail_nth 1; dma_unmap dev0 i1 -> [fault_injection_viommu_unmap_req, "
            + "dma_unmap_size_mismatch] on both sides, the driver's tree empty while the device keeps the mapping (the page-table "
            + "check's driver/hardware agreement)", 4, [DriverNames.Virtio]),
    ];

    /// <summary>
    /// The emulator's own bugs: what the hardware does with a command no correct driver sends, so no trace reaches
    /// them. The command-stream property (Harness/Iommu/HardwareQueues) finds them; their length counts its actions.
    /// </summary>
    public static IReadOnlyList<SeededBug> HardwareQueue { get; } =
    [
        new(MalformedCmdNotLatched,
            "synthetic, against the SMMUv3 architecture's command-queue error rule (QEMU smmuv3_cmdq_consume stops and "
            + "latches; hardware-and-peers.md S17)",
            "the emulated SMMU passes over an illegal command as if it had run: CONS moves on, GERROR.CMDQ_ERR is not "
            + "toggled, and the commands after it run",
            "write an illegal command; publish PROD -> CONS stays at it with CERROR_ILL expected, CONS past it buggy", 2,
            [DriverNames.Smmuv3]),
    ];

    /// <summary>The seeded bug named <paramref name="name"/>, of a trace or of the hardware queues, or null.</summary>
    public static SeededBug? Find(string name) => All.FirstOrDefault(b => b.Name == name) ?? HardwareQueue.FirstOrDefault(b => b.Name == name);
}
