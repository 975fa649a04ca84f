using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Smmuv3;
using IommuConformance.Implementations.Hardware.Vtd;
using IommuConformance.Implementations.PageTable;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.HwRig;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>
/// Each seeded bug of the hardware layer at the driver / hardware level: the same steps with the switch off and on,
/// the first answering what the contract says, the second what the bug does (docs/seeded-bugs.md).
/// </summary>
public class HardwareBugTests
{
    private const IommuProt Rw = IommuProt.Read | IommuProt.Write;
    private static readonly IommuSpec Vtd0 = new("vtd0", DriverNames.Vtd, IommuOptions.None);
    private static readonly DmaResult Unmapped = new(Errno.EIO, 0, DmaFault.Translation);

    private static (IommuSystem System, Implementations.Drivers.PagingDomain Domain) Smmu(bool bug, string name) =>
        Attached(Smmu0, Pci("dev0"), bug ? [name] : null);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Range_invalidation_of_only_the_first_page_leaves_the_second_cached(bool bug)
    {
        var (system, domain) = Smmu(bug, BugCatalogue.RangeInvalFirstPage);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x2000, Rw, out _));
        Assert.Equal(Phys + 0x1000, system.DeviceDma("dev0", Iova + 0x1000, 4, write: false).Phys);
        Assert.Equal(0x2000UL, domain.Unmap(Iova, 0x2000, out _));

        Assert.Equal(Unmapped, system.DeviceDma("dev0", Iova, 4, write: false));
        var second = system.DeviceDma("dev0", Iova + 0x1000, 4, write: false);
        Assert.Equal(bug ? new DmaResult(Errno.OK, Phys + 0x1000, null) : Unmapped, second);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tlbi_without_sync_leaves_the_unmap_pending_and_the_translation_live(bool bug)
    {
        var (system, domain) = Smmu(bug, BugCatalogue.TlbiWithoutSync);
        var hw = system.Smmu();
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, Rw, out _));
        Assert.Equal(Phys, system.DeviceDma("dev0", Iova, 4, write: true).Phys);
        Assert.Equal(0x1000UL, domain.Unmap(Iova, 0x1000, out _));

        Assert.Equal(bug ? 1 : 0, hw.PendingInvalidations);
        Assert.Equal(bug ? new DmaResult(Errno.OK, Phys, null) : Unmapped, system.DeviceDma("dev0", Iova, 4, write: true));
        hw.Issue(Smmuv3Cmd.Sync(0, 0));   // any later SYNC completes it
        Assert.Equal(Unmapped, system.DeviceDma("dev0", Iova, 4, write: true));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Split_on_partial_unmap_answers_the_page_and_keeps_the_rest_of_the_block(bool bug)
    {
        var (system, domain) = Smmu(bug, BugCatalogue.SplitOnPartialUnmap);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x20_0000, IommuProt.Read, out _));
        Assert.Equal(Phys + 0x1008, system.DeviceDma("dev0", Iova + 0x1008, 4, write: false).Phys);
        var frames = domain.TableFrames;

        var unmapped = domain.Unmap(Iova + 0x1000, 0x1000, out var warnings);
        if (!bug)
        {
            Assert.Equal(0UL, unmapped);
            Assert.Equal([PgtableWarning.ArmUnmapPartialLarge], warnings);
            Assert.Equal(Phys + 0x1008, domain.IovaToPhys(Iova + 0x1008, out _));
            return;
        }
        Assert.Equal(0x1000UL, unmapped);
        Assert.Empty(warnings);
        Assert.Equal(frames + 1, domain.TableFrames);                                       // the new level-3 table
        Assert.Equal(0UL, domain.IovaToPhys(Iova + 0x1008, out _));
        Assert.Equal(Phys + 0x2008, domain.IovaToPhys(Iova + 0x2008, out _));               // same output, same rights
        Assert.Equal(Unmapped, system.DeviceDma("dev0", Iova + 0x1008, 4, write: false));   // the block's entry went
        Assert.Equal(DmaFault.Permission, system.DeviceDma("dev0", Iova + 0x2008, 4, write: true).Fault);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Overmap_accepted_overwrites_the_leaf(bool bug)
    {
        var (_, domain) = Smmu(bug, BugCatalogue.OvermapAccepted);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, Rw, out _));

        var ret = domain.Map(Iova, Phys + 0x10_0000, 0x1000, Rw, out var warnings);
        Assert.Equal(bug ? Errno.OK : Errno.EEXIST, ret);
        Assert.Equal(bug ? [] : [PgtableWarning.ArmMapExists], warnings);
        Assert.Equal(bug ? Phys + 0x10_0000 : Phys, domain.IovaToPhys(Iova, out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_move_between_stage1_domains_keeps_the_ste_and_needs_cfgi_cd(bool bug)
    {
        var system = Create([Smmu0], [Pci("dev0")], bug ? [BugCatalogue.CdChangeSkipsCfgi] : null);
        Assert.All(system.Run(new Probe("dev0"), new DomainAllocPaging("dev0", "d1"), new Map("d1", Iova, Phys, 0x1000, "rw")),
            o => Assert.Equal(Errno.OK, o.Errno));
        var hw = system.Smmu();
        Assert.Equal(Unmapped, system.DeviceDma("dev0", Iova, 4, write: false));   // the DMA-FQ default: its config is cached
        var ste = hw.SteWord(0);
        var commands = hw.CommandsConsumed;

        Assert.Equal(Errno.OK, system.Execute(new AttachDevice("d1", "dev0")).Errno);
        Assert.Equal(ste, hw.SteWord(0));                                           // S1 → S1: the STE is not rewritten
        Assert.Equal(bug ? 1 : 2, hw.CommandsConsumed - commands);                  // CFGI_CD + SYNC, or the SYNC alone
        Assert.Equal(bug ? Unmapped : new DmaResult(Errno.OK, Phys, null), system.DeviceDma("dev0", Iova, 4, write: false));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_block_over_a_table_needs_a_non_leaf_tlbi_for_the_walk_cache(bool bug)
    {
        var (system, domain) = Smmu(bug, BugCatalogue.TableFreeLeafTlbi);
        var hw = system.Smmu();
        Assert.Equal(Errno.OK, domain.Map(Iova + 0x1000, Phys, 0x1000, Rw, out _));
        Assert.Equal(Phys, system.DeviceDma("dev0", Iova + 0x1000, 4, write: false).Phys);
        Assert.True(hw.WalkCacheCount > 0);

        // The 2M block replaces the level-3 table (freed after the iotlb_sync).
        Assert.Equal(Errno.OK, domain.Map(Iova, 0x8000_0000_0UL, 0x20_0000, Rw, out _));
        var dma = system.DeviceDma("dev0", Iova + 0x1000, 4, write: false);
        Assert.Equal(bug ? new DmaResult(Errno.EIO, 0, DmaFault.ExternalAbort) : new DmaResult(Errno.OK, 0x8000_0000_0UL + 0x1000, null), dma);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_non_leaf_range_of_one_page_modulo_32_must_not_start_with_an_illegal_tlbi(bool bug)
    {
        const ulong X = 0x4000_0000;   // 2M-aligned: map X+4K..X+2M+4K, so [X, X+2M) is one table and one page lies past it
        var (system, domain) = Smmu(bug, BugCatalogue.RangeTlbiTtlNumScaleZero);
        Assert.Equal(Errno.OK, domain.Map(X + 0x1000, Phys, 0x20_0000, Rw, out _));
        Assert.Equal(Phys + 0x1F_F000, system.DeviceDma("dev0", X + 0x20_0000, 4, write: false).Phys);
        Assert.Equal(0x20_1000UL, domain.Unmap(X, 0x20_1000, out _));   // the table goes whole: a non-leaf range of 513 pages

        Assert.Equal(Unmapped, system.DeviceDma("dev0", X + 0x20_0000, 4, write: false));
        var errors = system.HardwareErrors;
        if (!bug) Assert.Empty(errors);
        else Assert.Contains(errors, e => e.Contains("CMDQ error", StringComparison.Ordinal) && e.Contains("Ill", StringComparison.Ordinal));
    }

    [Fact]
    public void The_walk_cache_survives_a_leaf_tlbi_and_goes_with_a_non_leaf_one()
    {
        var (system, domain) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, Rw, out _));
        system.DeviceDma("dev0", Iova, 4, write: false);
        var cached = hw.WalkCacheCount;
        Assert.Equal(3, cached);                                                     // levels 0, 1, 2 of a 48-bit stage 1

        hw.Issue(Smmuv3Cmd.TlbiVa(domain.Id, Iova, 0, 0, tg: 1, leaf: true, ttl: 3));
        hw.Issue(Smmuv3Cmd.Sync(0, 0));
        Assert.Equal(cached, hw.WalkCacheCount);
        Assert.Contains(system.PossibleTranslations("dev0", Iova, write: false), p => p.Source == TranslationSource.WalkCache && p.Translation.Phys == Phys);
        var hits = hw.WalkCacheHits;
        system.DeviceDma("dev0", Iova, 4, write: false);
        Assert.Equal(hits + 1, hw.WalkCacheHits);                                    // the IOTLB missed, the walk resumed at level 3

        hw.Issue(Smmuv3Cmd.TlbiVa(domain.Id, Iova, 1, 0, tg: 1, leaf: false));
        hw.Issue(Smmuv3Cmd.Sync(0, 0));
        Assert.Equal(0, hw.WalkCacheCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_whole_leaf_removed_by_a_partial_unmap_must_be_invalidated_whole(bool bug)
    {
        var (system, domain) = Attached(Vtd0, Pci("dev0", "vtd0"), bug ? [BugCatalogue.PartialUnmapInvalRequestedOnly] : null);
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x20_0000, Rw, out _));
        Assert.Equal(Phys + 0x1000, system.DeviceDma("dev0", Iova + 0x1000, 4, write: false).Phys);

        Assert.Equal(0x20_0000UL, domain.Unmap(Iova, 0x1000, out _));                // the whole leaf, from its start
        Assert.Equal(bug ? new DmaResult(Errno.OK, Phys + 0x1000, null) : Unmapped, system.DeviceDma("dev0", Iova + 0x1000, 4, write: false));
    }

    [Fact]
    public void The_vtd_iotlb_caches_a_large_leaf_as_the_page_reached()
    {
        var (system, domain) = Attached(Vtd0, Pci("dev0", "vtd0"));
        var hw = Assert.IsType<VtdHardware>(system.HardwareOf("vtd0"));
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x20_0000, Rw, out _));
        Assert.Equal(Phys + 0x5008, system.DeviceDma("dev0", Iova + 0x5008, 4, write: false).Phys);

        var entry = Assert.Single(hw.Iotlb.Entries);
        Assert.Equal((Iova + 0x5000, 0x1000UL, Phys + 0x5000), (entry.Iova, entry.Size, entry.Phys));
        Assert.Equal(Phys + 0x5ff0, system.DeviceDma("dev0", Iova + 0x5ff0, 4, write: false).Phys);
        Assert.Equal(1, hw.Iotlb.Hits);
    }
}
