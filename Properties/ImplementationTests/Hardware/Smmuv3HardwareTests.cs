using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Bugs;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Smmuv3;
using IommuConformance.Implementations.PageTable;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.HwRig;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>The emulated SMMUv3: structures in memory, the command and event queues, the IOTLB that goes stale.</summary>
public class Smmuv3HardwareTests
{
    [Fact]
    public void The_ste_and_cd_are_decoded_from_memory()
    {
        var (system, domain) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        var ste = hw.SteWord(0);
        Assert.Equal(Smmuv3Ste.V | (Smmuv3Ste.CfgS1Trans << Smmuv3Ste.CfgShift), ste & ~Smmuv3Ste.S1CtxPtrMask);
        var cd0 = hw.Memory.Read(ste & Smmuv3Ste.S1CtxPtrMask);
        var cd1 = hw.Memory.Read((ste & Smmuv3Ste.S1CtxPtrMask) + 8);
        Assert.Equal((ulong)domain.Id, cd0 >> Smmuv3Cd.AsidShift);
        Assert.Equal(domain.Pgtable.RootPhys, cd1 & Smmuv3Cd.Ttb0Mask);
        Assert.Equal(new HwContext(HwContextKind.Translate, domain.Id), system.SnapshotDevice("dev0").Context);

        // What the driver last wrote is what the snapshot shows: clear V in memory and the entry is gone.
        hw.Memory.Write(hw.ReadReg(Smmuv3Regs.StrtabBase) & Smmuv3Ste.S1CtxPtrMask, ste & ~Smmuv3Ste.V);
        Assert.Equal(HwContext.None, system.SnapshotDevice("dev0").Context);
    }

    [Fact]
    public void Release_writes_the_ste_itself_with_cfgi_and_sync()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        system.Execute(new Probe("dev0"));
        var hw = system.Smmu();
        Assert.NotEqual(0UL, hw.SteWord(0));
        var (commands, syncs) = (hw.CommandsConsumed, hw.Syncs);
        system.Execute(new Release("dev0"));
        Assert.Equal(0UL, hw.SteWord(0));
        Assert.True(hw.CommandsConsumed > commands && hw.Syncs > syncs);
        Assert.Equal(HwContext.None, system.SnapshotDevice("dev0").Context);
        Assert.Equal(DmaFault.BadSte, system.DeviceDma("dev0", 0, 4, write: false).Fault);
    }

    [Theory]
    [InlineData(1, 0, 0, 0, false)]   // TG 4K, TTL = NUM = SCALE = 0: illegal
    [InlineData(1, 3, 0, 0, true)]    // the same page with its level
    [InlineData(1, 0, 1, 0, true)]    // two pages, no level
    [InlineData(1, 0, 0, 1, true)]
    [InlineData(0, 0, 0, 0, true)]    // TG 0: the one entry
    [InlineData(0, 3, 0, 0, false)]   // a level without a granule
    [InlineData(0, 0, 1, 0, false)]   // a range without a granule
    public void A_range_tlbi_with_ttl_num_and_scale_all_zero_is_illegal(int tg, int ttl, int num, int scale, bool legal)
    {
        var (system, domain) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        var consumed = hw.CommandsConsumed;
        hw.Issue(Smmuv3Cmd.TlbiVa(domain.Id, Iova, num, scale, tg, leaf: true, ttl));
        var cons = (uint)hw.ReadReg(Smmuv3Regs.CmdqCons);
        Assert.Equal(legal ? 0u : (uint)Smmuv3CmdqError.Ill, (cons >> Smmuv3Regs.ConsErrShift) & 0x7F);
        Assert.Equal(legal ? consumed + 1 : consumed, hw.CommandsConsumed);
    }

    [Fact]
    public void A_tlbi_without_sync_has_not_happened_and_the_cached_translation_stays_until_it_does()
    {
        var (system, domain) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read | IommuProt.Write, out _));
        Assert.Equal(Phys + 8, system.DeviceDma("dev0", Iova + 8, 8, write: true).Phys);   // walked and cached

        // The page table changes behind the IOTLB's back (no invalidation): the cached translation still answers.
        Assert.Equal(0x1000UL, domain.Pgtable.UnmapPages(Iova, 0x1000, 1, new IotlbGather()));
        Assert.Equal(Phys + 8, system.DeviceDma("dev0", Iova + 8, 8, write: true).Phys);
        var possible = system.PossibleTranslations("dev0", Iova, write: false);
        Assert.Contains(new PossibleTranslation(TranslationSource.FreshWalk, DmaTranslation.Faulted(DmaFault.Translation)), possible);
        Assert.Contains(possible, p => p.Source == TranslationSource.Iotlb && p.Translation.Phys == Phys);

        hw.Issue(Smmuv3Cmd.TlbiVa(domain.Id, Iova, 0, 0, tg: 1, leaf: true, ttl: 3));
        Assert.Equal(1, hw.PendingInvalidations);
        Assert.Equal(Phys, system.DeviceDma("dev0", Iova, 4, write: false).Phys);          // consumed, not complete
        hw.Issue(Smmuv3Cmd.Sync(0, 0));
        Assert.Equal(0, hw.PendingInvalidations);
        Assert.Equal(new DmaResult(Errno.EIO, 0, DmaFault.Translation), system.DeviceDma("dev0", Iova, 4, write: false));
    }

    [Fact]
    public void Unmap_through_the_domain_invalidates_with_tlbi_and_sync_before_it_returns()
    {
        var (system, domain) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x20_0000, IommuProt.Read, out _));   // one 2M block
        Assert.Equal(Phys + 0x1234, system.DeviceDma("dev0", Iova + 0x1234, 4, write: false).Phys);
        Assert.Equal(DmaFault.Permission, system.DeviceDma("dev0", Iova, 4, write: true).Fault);   // a hit re-checks rights
        var invalidations = hw.Iotlb.EntriesInvalidated;
        Assert.Equal(0x20_0000UL, domain.Unmap(Iova, 0x20_0000, out var warnings));
        Assert.Empty(warnings);
        Assert.Equal(invalidations + 1, hw.Iotlb.EntriesInvalidated);
        Assert.All(system.PossibleTranslations("dev0", Iova + 0x1234, write: false), p => Assert.Equal(DmaFault.Translation, p.Translation.Fault));
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", Iova + 0x1F_F000, 4, write: false).Fault);
    }

    [Fact]
    public void A_malformed_command_stops_the_queue_and_latches_the_error_until_acknowledged()
    {
        var system = Create([Smmu0], [Pci("dev0")]);
        var hw = system.Smmu();
        var cons = (uint)hw.ReadReg(Smmuv3Regs.CmdqCons);
        hw.Issue((0xFF, 0));                                        // no such opcode
        Assert.Equal((uint)Smmuv3CmdqError.Ill, ((uint)hw.ReadReg(Smmuv3Regs.CmdqCons) >> Smmuv3Regs.ConsErrShift) & 0x7F);
        Assert.Equal(Smmuv3Regs.GerrorCmdqErr, (uint)(hw.ReadReg(Smmuv3Regs.Gerror) ^ hw.ReadReg(Smmuv3Regs.Gerrorn)) & Smmuv3Regs.GerrorCmdqErr);
        var consumed = hw.CommandsConsumed;
        hw.Issue(Smmuv3Cmd.TlbiAll());
        hw.Issue(Smmuv3Cmd.Sync(0, 0));
        Assert.Equal(consumed, hw.CommandsConsumed);                // nothing runs while the error is latched
        Assert.Equal(cons, (uint)hw.ReadReg(Smmuv3Regs.CmdqCons) & 0x1FF);

        // Acknowledging without fixing the command faults again at the same place; replaced by a SYNC, it runs.
        hw.WriteReg(Smmuv3Regs.Gerrorn, hw.ReadReg(Smmuv3Regs.Gerror));
        Assert.Equal(consumed, hw.CommandsConsumed);
        var slot = (hw.ReadReg(Smmuv3Regs.CmdqBase) & Smmuv3Regs.QBaseAddrMask) + (cons & 0xFF) * 16UL;
        var (w0, w1) = Smmuv3Cmd.Sync(0, 0);
        hw.Memory.Write(slot, w0);
        hw.Memory.Write(slot + 8, w1);
        hw.WriteReg(Smmuv3Regs.Gerrorn, hw.ReadReg(Smmuv3Regs.Gerror));
        Assert.Equal(consumed + 3, hw.CommandsConsumed);
        Assert.Equal(hw.ReadReg(Smmuv3Regs.CmdqProd), hw.ReadReg(Smmuv3Regs.CmdqCons));
    }

    [Fact]
    public void Faults_are_recorded_as_events_and_a_full_event_queue_overflows()
    {
        var (system, _) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        Assert.Equal(DmaFault.Translation, system.DeviceDma("dev0", 0x5000, 4, write: false).Fault);
        var evtq = hw.ReadReg(Smmuv3Regs.EvtqBase) & Smmuv3Regs.QBaseAddrMask;
        var w0 = hw.Memory.Read(evtq);
        Assert.Equal(Smmuv3Event.Translation, (byte)w0);
        Assert.Equal(0UL, w0 >> 32);                                  // stream 0
        Assert.Equal(Smmuv3Event.RnW, hw.Memory.Read(evtq + 8) & Smmuv3Event.RnW);
        Assert.Equal(0x5000UL, hw.Memory.Read(evtq + 16));

        for (var i = 1; i < 128; i++) system.DeviceDma("dev0", 0x5000, 4, write: true);
        Assert.Equal((128L, 0L), (hw.EventsRecorded, hw.EventsDropped));
        Assert.Equal(0UL, hw.ReadReg(Smmuv3Regs.EvtqProd) & Smmuv3Regs.QOverflow);
        system.DeviceDma("dev0", 0x5000, 4, write: true);
        Assert.Equal((128L, 1L), (hw.EventsRecorded, hw.EventsDropped));
        Assert.Equal((ulong)Smmuv3Regs.QOverflow, hw.ReadReg(Smmuv3Regs.EvtqProd) & Smmuv3Regs.QOverflow);

        // Software consumes the events: the queue takes new ones again.
        hw.WriteReg(Smmuv3Regs.EvtqCons, hw.ReadReg(Smmuv3Regs.EvtqProd));
        system.DeviceDma("dev0", 0x5000, 4, write: true);
        Assert.Equal(129L, hw.EventsRecorded);
    }

    [Fact]
    public void An_unbacked_table_is_an_external_abort_with_the_descriptor_address()
    {
        var (system, domain) = Attached(Smmu0, Pci("dev0"));
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read, out _));
        system.HardwareOf("smmu0")!.Memory.Unback(domain.Pgtable.RootPhys);   // the root vanishes under the walker
        Assert.Equal(DmaFault.ExternalAbort, system.DeviceDma("dev0", Iova, 4, write: false).Fault);
        var hw = system.Smmu();
        var evtq = hw.ReadReg(Smmuv3Regs.EvtqBase) & Smmuv3Regs.QBaseAddrMask;
        Assert.Equal(Smmuv3Event.WalkEabt, (byte)hw.Memory.Read(evtq));
        Assert.Equal(domain.Pgtable.RootPhys, hw.Memory.Read(evtq + 24) & ~0xFFFUL);
    }

    [Fact]
    public void A_stream_never_attached_is_a_bad_ste_and_a_blocked_one_aborts_silently()
    {
        var system = Create([Smmu0], [Pci("dev0"), Pci("dev1", group: "g1")]);
        Assert.Equal(DmaFault.BadSte, system.DeviceDma("dev1", 0, 4, write: false).Fault);
        Assert.Equal(1L, system.Smmu().EventsRecorded);
        system.Run(new Probe("dev0"), new ClaimDmaOwner("dev0", "o1"));
        Assert.Equal(DmaFault.Blocked, system.DeviceDma("dev0", 0, 4, write: false).Fault);
        Assert.Equal(1L, system.Smmu().EventsRecorded);                // STE abort: no event
    }

    [Fact]
    public void A_decode_the_views_reused_is_read_again_after_any_write_of_memory()
    {
        var (system, domain) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read, out _));
        Assert.Equal(HwContextKind.Translate, system.SnapshotDevice("dev0").Context.Kind);   // decoded, and kept for reuse
        Assert.Contains(system.PossibleTranslations("dev0", Iova, write: false), p => p.Source == TranslationSource.FreshWalk && p.Translation.IsOk);
        // the CD's valid bit cleared behind the SMMU's back: the fresh walk reads the CD again
        var cd = hw.Memory.Read((hw.SteWord(0) & Smmuv3Ste.S1CtxPtrMask));
        hw.Memory.Write(hw.SteWord(0) & Smmuv3Ste.S1CtxPtrMask, cd & ~Smmuv3Cd.V);
        Assert.Contains(system.PossibleTranslations("dev0", Iova, write: false), p => p.Source == TranslationSource.FreshWalk && !p.Translation.IsOk);
        hw.Memory.Write(hw.SteWord(0) & Smmuv3Ste.S1CtxPtrMask, cd);
        Assert.Contains(system.PossibleTranslations("dev0", Iova, write: false), p => p.Source == TranslationSource.FreshWalk && p.Translation.IsOk);
        // the STE itself
        var steAddr = hw.ReadReg(Smmuv3Regs.StrtabBase) & Smmuv3Ste.S1CtxPtrMask;
        hw.Memory.Write(steAddr, Smmuv3Ste.Abort());
        Assert.Equal(HwContextKind.Abort, system.SnapshotDevice("dev0").Context.Kind);
    }

    [Fact]
    public void The_config_cache_answers_until_a_cfgi_and_sync()
    {
        var (system, domain) = Attached(Smmu0, Pci("dev0"));
        var hw = system.Smmu();
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read, out _));
        Assert.True(system.DeviceDma("dev0", Iova, 4, write: false).Errno == Errno.OK);
        var steAddr = hw.ReadReg(Smmuv3Regs.StrtabBase) & Smmuv3Ste.S1CtxPtrMask;
        hw.Memory.Write(steAddr, Smmuv3Ste.Abort());                  // rewritten without CFGI
        Assert.Equal(HwContextKind.Abort, system.SnapshotDevice("dev0").Context.Kind);
        Assert.Equal(Errno.OK, system.DeviceDma("dev0", Iova, 4, write: false).Errno);   // the cached config still translates
        Assert.Contains(system.PossibleTranslations("dev0", Iova, write: false), p => p.Source == TranslationSource.CachedConfig && p.Translation.IsOk);
        hw.Issue(Smmuv3Cmd.CfgiSteFor(0));
        hw.Issue(Smmuv3Cmd.Sync(0, 0));
        Assert.Equal(DmaFault.Blocked, system.DeviceDma("dev0", Iova, 4, write: false).Fault);
    }

    [Fact]
    public void With_stream_table_alias_two_streams_share_one_ste()
    {
        var system = Create([Smmu0], [Pci("dev0"), Pci("dev1", group: "g1"), Pci("dev2", group: "g2")], [BugCatalogue.StreamTableAlias]);
        Assert.Equal(1UL, system.Smmu().ReadReg(Smmuv3Regs.Idr1));
        system.Execute(new Probe("dev0"));
        Assert.Equal(system.SnapshotDevice("dev0").Context, system.SnapshotDevice("dev2").Context);
        Assert.Equal(HwContext.None, system.SnapshotDevice("dev1").Context);
    }
}
