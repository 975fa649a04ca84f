using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Drivers;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Vtd;
using IommuConformance.Implementations.PageTable;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.HwRig;
using static IommuConformance.Properties.ImplementationTests.Machine;

namespace IommuConformance.Properties.ImplementationTests.HardwareTests;

/// <summary>
/// The emulated VT-d unit in scalable mode, driven by hand-written structures (the driver still programs legacy
/// mode): root entry halves, 256-bit context entries, PASID directory and tables, PGTT first level / second level /
/// pass-through, RID_PASID for requests without PASID.
/// </summary>
public class VtdScalableHardwareTests
{
    private static readonly IommuSpec Vtd0Sm = new("vtd0", DriverNames.Vtd, new IommuOptions(Scalable: true));

    // Hand-built structures live far from the allocator's frames and the DMA target.
    private const ulong Root = 0x8000_0000, LowCtx = Root + 0x1000, HighCtx = Root + 0x2000, Dir = Root + 0x3000, Table0 = Root + 0x4000,
        Table1 = Root + 0x5000, Fl = Root + 0x10_0000;

    private static VtdHardware Hw(IommuSystem s) => Assert.IsType<VtdHardware>(s.HardwareOf("vtd0"));

    /// <summary>Scalable tables for dev0 (BDF 0): RID_PASID 0 on the domain's second level, PDTS 0 (128 directory entries).</summary>
    private static (IommuSystem, VtdHardware, PagingDomain) Rig()
    {
        var (system, domain) = Attached(Vtd0Sm, Pci("dev0", "vtd0"));
        var hw = Hw(system);
        foreach (var frame in new[] { Root, LowCtx, HighCtx, Dir, Table0, Table1 }) hw.Memory.Back(frame);
        hw.Memory.Write(Root, LowCtx | VtdEntry.P);
        hw.Memory.Write(Root + 8, HighCtx | VtdEntry.P);
        var (lo, hi) = VtdSm.Context(Dir, 0, 0);
        hw.Memory.Write(LowCtx + 8, hi);
        hw.Memory.Write(LowCtx, lo);
        hw.Memory.Write(Dir, Table0 | VtdEntry.P);
        WritePasid(hw, 0, VtdPasidEntry.SecondLevel(domain.Pgtable.RootPhys, Assert.IsType<VtdssPgtable>(domain.Pgtable).AddressWidthField, domain.Id));
        hw.WriteReg(VtdRegs.Rtaddr, Root | VtdSm.RtaddrTtmScalable);
        Assert.True(hw.Scalable);
        return (system, hw, domain);
    }

    private static void WritePasid(VtdHardware hw, uint pasid, VtdPasidEntry e)
    {
        var table = (hw.Memory.Read(Dir + (pasid >> 6) * 8) & VtdEntry.AddrMask) + (pasid & 0x3F) * 64;
        hw.Memory.Write(table + 8, e.W1);
        hw.Memory.Write(table + 16, e.W2);
        hw.Memory.Write(table, e.W0);
    }

    /// <summary>A 4-level x86-64 table at Fl mapping one user 4 KiB page va → pa.</summary>
    private static void MapX86(VtdHardware hw, ulong va, ulong pa, bool writable)
    {
        const ulong table = X86Pte.P | X86Pte.Rw | X86Pte.Us;
        var at = Fl;
        for (var level = 3; level > 0; level--)
        {
            var slot = at + ((va >> (12 + 9 * level)) & 511) * 8;
            if (!hw.Memory.IsBacked(at)) hw.Memory.Back(at);
            var next = Fl + (ulong)(4 - level) * 0x1000;
            hw.Memory.Write(slot, next | table);
            at = next;
        }
        if (!hw.Memory.IsBacked(at)) hw.Memory.Back(at);
        hw.Memory.Write(at + ((va >> 12) & 511) * 8, pa | X86Pte.P | X86Pte.Us | (writable ? X86Pte.Rw : 0));
    }

    [Fact]
    public void The_unit_advertises_scalable_mode_only_when_the_option_is_set()
    {
        Assert.Equal(VtdSm.EcapSmts, Hw(Create([Vtd0Sm], [Pci("dev0", "vtd0")])).ReadReg(VtdRegs.Ecap) & VtdSm.EcapSmts);
        var legacy = Hw(Create([new IommuSpec("vtd0", DriverNames.Vtd, IommuOptions.None)], [Pci("dev0", "vtd0")]));
        Assert.Equal(0UL, legacy.ReadReg(VtdRegs.Ecap) & VtdSm.EcapSmts);
        // TTM = 01 on a unit without SMTS is not scalable: the unit keeps decoding legacy entries.
        legacy.WriteReg(VtdRegs.Rtaddr, legacy.ReadReg(VtdRegs.Rtaddr) | VtdSm.RtaddrTtmScalable);
        Assert.False(legacy.Scalable);
    }

    [Fact]
    public void The_rid_translates_through_the_rid_pasid_entry()
    {
        var (system, hw, domain) = Rig();
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read | IommuProt.Write, out _));
        Assert.Equal(Phys + 0x10, system.DeviceDma("dev0", Iova + 0x10, 4, write: true).Phys);
        Assert.Equal(new HwContext(HwContextKind.Translate, domain.Id), hw.ReadContext("dev0"));
        // A cleared RID_PASID entry (its cached copy invalidated) blocks the RID; FPD in it keeps the fault out of the records.
        WritePasid(hw, 0, new VtdPasidEntry(VtdPasidEntry.Fpd, 0, 0));
        WideQueue(hw);
        SubmitWide(hw, VtdQi.PasidCache(1, domain.Id, 0));
        Wait(hw);
        var recorded = hw.FaultsRecorded;
        Assert.Equal(DmaFault.Blocked, system.DeviceDma("dev0", Iova + 0x2000, 4, write: false).Fault);
        Assert.Equal(recorded, hw.FaultsRecorded);
        Assert.Equal(HwContextKind.Abort, hw.ReadContext("dev0").Kind);
        WritePasid(hw, 0, VtdPasidEntry.PassThrough(2, domain.Id));
        Assert.Equal(HwContextKind.Bypass, hw.ReadContext("dev0").Kind);
        Assert.Equal(0x1234_5000UL, system.DeviceDma("dev0", 0x1234_5000, 4, write: true).Phys);
    }

    [Fact]
    public void A_pasid_tagged_dma_uses_its_own_entry()
    {
        var (system, hw, domain) = Rig();
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read, out _));
        MapX86(hw, 0x7000_0000, Phys + 0x8000, writable: false);
        WritePasid(hw, 5, VtdPasidEntry.FirstLevel(Fl, 0, 2, 42));
        WritePasid(hw, 6, VtdPasidEntry.PassThrough(2, 43));
        Assert.Equal(Phys + 0x8010, hw.TranslatePasid("dev0", 5, 0x7000_0010, 4, write: false).Phys);
        Assert.Equal(DmaFault.Permission, hw.TranslatePasid("dev0", 5, 0x7000_0010, 4, write: true).Fault);
        Assert.Equal(DmaFault.Translation, hw.TranslatePasid("dev0", 5, Iova, 4, write: false).Fault);
        Assert.Equal(0x9000UL, hw.TranslatePasid("dev0", 6, 0x9000, 4, write: true).Phys);
        Assert.Equal(Phys, hw.TranslatePasid("dev0", 0, Iova, 4, write: false).Phys);   // PASID 0: the RID's own
        Assert.Equal(DmaFault.Blocked, hw.TranslatePasid("dev0", 7, Iova, 4, write: false).Fault);
        Assert.Equal([5u, 6u], hw.PasidsInUse("dev0"));
    }

    [Fact]
    public void Pasid_structures_refuse_what_is_missing_or_too_large()
    {
        var (system, hw, _) = Rig();
        // PDTS 0: 128 directory entries, PASIDs below 2^13.
        Assert.Equal(DmaFault.ContextEntry, hw.TranslatePasid("dev0", 1u << 13, 0, 4, write: false).Fault);
        // A directory entry not present: the PASID has no table.
        Assert.Equal(DmaFault.Blocked, hw.TranslatePasid("dev0", 64, 0, 4, write: false).Fault);
        hw.Memory.Write(Dir + 8, Table1 | VtdEntry.P);
        WritePasid(hw, 65, VtdPasidEntry.PassThrough(2, 7));
        Assert.Equal(0x5000UL, hw.TranslatePasid("dev0", 65, 0x5000, 4, write: false).Phys);
        // A PGTT this unit does not implement (nested) is an invalid entry.
        WritePasid(hw, 66, new VtdPasidEntry(VtdPasidEntry.P | ((ulong)VtdPasidEntry.PgttNested << VtdPasidEntry.PgttShift), 7, 0));
        Assert.Equal(DmaFault.ContextEntry, hw.TranslatePasid("dev0", 66, 0, 4, write: false).Fault);
        // A table page gone: the entry fetch aborts (once the cached entry is invalidated).
        hw.Memory.Unback(Table1);
        Assert.True(hw.TranslatePasid("dev0", 65, 0x5000, 4, write: false).IsOk);
        WideQueue(hw);
        SubmitWide(hw, VtdQi.PasidCache(1, 7, 65));
        Wait(hw);
        Assert.Equal(DmaFault.ExternalAbort, hw.TranslatePasid("dev0", 65, 0x5000, 4, write: false).Fault);
        Assert.Equal(HwContextKind.Abort, hw.ReadContext("spare").Kind);   // devfn 1's context entry not present
    }

    [Fact]
    public void The_upper_context_table_serves_devfn_0x80_and_above()
    {
        // 129 devices: dev128 is BDF 00:10.0 = devfn 0x80, the first entry of the root's upper context table.
        var system = Create([Vtd0Sm], Enumerable.Range(0, 129).Select(i => Pci($"dev{i}", "vtd0", $"g{i}")));
        var hw = Hw(system);
        Assert.Equal(0x80, hw.RequesterIdOf("dev128"));
        foreach (var frame in new[] { Root, LowCtx, HighCtx, Dir, Table0 }) hw.Memory.Back(frame);
        hw.Memory.Write(Root + 8, HighCtx | VtdEntry.P);                // the lower half stays not present
        var (lo, hi) = VtdSm.Context(Dir, 0, 6);
        hw.Memory.Write(HighCtx + 8, hi);
        hw.Memory.Write(HighCtx, lo);
        hw.Memory.Write(Dir, Table0 | VtdEntry.P);
        WritePasid(hw, 6, VtdPasidEntry.PassThrough(2, 43));
        hw.WriteReg(VtdRegs.Rtaddr, Root | VtdSm.RtaddrTtmScalable);
        Assert.Equal(0x3000UL, system.DeviceDma("dev128", 0x3000, 4, write: false).Phys);
        Assert.Equal(HwContextKind.Bypass, hw.ReadContext("dev128").Kind);
        Assert.Equal(HwContext.None, hw.ReadContext("dev0"));            // LCTP not present: as a root not present
        Assert.Equal(DmaFault.ContextEntry, system.DeviceDma("dev127", 0x3000, 4, write: false).Fault);
    }

    [Fact]
    public void The_directory_size_follows_the_max_pasid()
    {
        // context_get_sm_pds: 2^(PDTS + 7) directory entries of 64 PASIDs each.
        Assert.Equal(0, VtdSm.PdtsFor(1u << 12));
        Assert.Equal(2, VtdSm.PdtsFor(1u << 15));
        Assert.Equal(7, VtdSm.PdtsFor(1u << 20));
        Assert.Equal(1 << 14, VtdSm.DirEntries(VtdSm.Context(0, 7, 0).Lo));
    }

    [Fact]
    public void A_cached_context_entry_is_used_until_invalidated()
    {
        var (system, hw, domain) = Rig();
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read, out _));
        Assert.Equal(Phys, system.DeviceDma("dev0", Iova, 4, write: false).Phys);
        // Re-point RID_PASID at PASID 6 (pass-through) in memory only: the cached context entry still says 0.
        var (lo, hi) = VtdSm.Context(Dir, 0, 6);
        WritePasid(hw, 6, VtdPasidEntry.PassThrough(2, 43));
        hw.Memory.Write(LowCtx + 8, hi);
        hw.Memory.Write(LowCtx, lo);
        Assert.Equal(Phys, system.DeviceDma("dev0", Iova, 4, write: false).Phys);
        Assert.Contains(system.PossibleTranslations("dev0", Iova, write: false), p => p.Source == TranslationSource.CachedConfig && p.Translation.Phys == Phys);
        Assert.Contains(system.PossibleTranslations("dev0", Iova, write: false), p => p.Source == TranslationSource.FreshWalk && p.Translation.Phys == Iova);
    }

    /// <summary>Re-programs the queue with 256-bit descriptors (IQA.DW) at its page, head and tail 0.</summary>
    private static void WideQueue(VtdHardware hw)
    {
        hw.WriteReg(VtdRegs.Iqa, (hw.ReadReg(VtdRegs.Iqa) & ~0xFFFUL) | VtdQi.IqaDw);
        hw.WriteReg(VtdRegs.Iqt, 0);
    }

    private static void SubmitWide(VtdHardware hw, params (ulong Lo, ulong Hi)[] descs)
    {
        var qbase = hw.ReadReg(VtdRegs.Iqa) & ~0xFFFUL;
        foreach (var d in descs)
        {
            var tail = hw.ReadReg(VtdRegs.Iqt);
            hw.Memory.Write(qbase + tail, d.Lo);
            hw.Memory.Write(qbase + tail + 8, d.Hi);
            hw.Memory.Write(qbase + tail + 16, 0);
            hw.Memory.Write(qbase + tail + 24, 0);
            hw.WriteReg(VtdRegs.Iqt, (tail + 32) % 4096);
        }
    }

    private static void Wait(VtdHardware hw)
    {
        const ulong status = Root + 0x20_0000;
        hw.Memory.Back(status);
        SubmitWide(hw, VtdQi.Wait(status, 1));
        Assert.Equal(1UL, hw.Memory.Read(status) & 0xFFFF_FFFF);
    }

    [Fact]
    public void A_cached_pasid_entry_is_used_until_its_pasid_cache_invalidation()
    {
        var (_, hw, _) = Rig();
        WideQueue(hw);
        WritePasid(hw, 6, VtdPasidEntry.PassThrough(2, 43));
        Assert.Equal(0x9000UL, hw.TranslatePasid("dev0", 6, 0x9000, 4, write: false).Phys);
        WritePasid(hw, 6, new VtdPasidEntry(0, 0, 0));                       // torn down in memory only
        Assert.Equal(0x9000UL, hw.TranslatePasid("dev0", 6, 0x9000, 4, write: false).Phys);
        Assert.Contains(hw.PossiblePasidTranslations("dev0", 6, 0x9000, write: false), p => p.Source == TranslationSource.CachedConfig && p.Translation.IsOk);
        Assert.Contains(6u, hw.PasidsInUse("dev0"));
        // Another DID's or another PASID's invalidation leaves it; its own drops it at the wait.
        SubmitWide(hw, VtdQi.PasidCache(1, 42, 6), VtdQi.PasidCache(1, 43, 7));
        Wait(hw);
        Assert.True(hw.TranslatePasid("dev0", 6, 0x9000, 4, write: false).IsOk);
        SubmitWide(hw, VtdQi.PasidCache(1, 43, 6));
        Assert.True(hw.TranslatePasid("dev0", 6, 0x9000, 4, write: false).IsOk);   // pending until the wait
        Wait(hw);
        Assert.Equal(DmaFault.Blocked, hw.TranslatePasid("dev0", 6, 0x9000, 4, write: false).Fault);
        Assert.DoesNotContain(6u, hw.PasidsInUse("dev0"));
    }

    [Fact]
    public void All_pasids_of_a_did_global_and_context_invalidations_drop_cached_pasid_entries()
    {
        var (_, hw, _) = Rig();
        WideQueue(hw);
        foreach (var (gran, desc) in new[] { (0, VtdQi.PasidCache(0, 43, 0)), (3, VtdQi.PasidCache(3, 0, 0)), (-1, VtdQi.ContextDevice(0, 0)) })
        {
            WritePasid(hw, 6, VtdPasidEntry.PassThrough(2, 43));
            Assert.True(hw.TranslatePasid("dev0", 6, 0x9000, 4, write: false).IsOk);
            WritePasid(hw, 6, new VtdPasidEntry(0, 0, 0));
            SubmitWide(hw, desc);
            Wait(hw);
            Assert.Equal(DmaFault.Blocked, hw.TranslatePasid("dev0", 6, 0x9000, 4, write: false).Fault);
        }
    }

    [Fact]
    public void A_first_level_translation_stays_in_the_pasid_iotlb_until_a_pasid_based_invalidation()
    {
        var (_, hw, _) = Rig();
        WideQueue(hw);
        MapX86(hw, 0x7000_0000, Phys + 0x8000, writable: true);
        WritePasid(hw, 5, VtdPasidEntry.FirstLevel(Fl, 0, 2, 42));
        Assert.Equal(Phys + 0x8000, hw.TranslatePasid("dev0", 5, 0x7000_0000, 4, write: true).Phys);
        hw.Memory.Write(Fl + 0x3000 + ((0x7000_0000UL >> 12) & 511) * 8, 0);   // the leaf gone behind the IOTLB's back
        Assert.Equal(Phys + 0x8000, hw.TranslatePasid("dev0", 5, 0x7000_0000, 4, write: true).Phys);
        Assert.Contains(hw.PossiblePasidTranslations("dev0", 5, 0x7000_0000, write: true), p => p.Source == TranslationSource.Iotlb && p.Translation.IsOk);
        // A domain-selective IOTLB invalidation reaches DID-tagged (second-level) entries only; another PASID's
        // p_iotlb nothing; a page range elsewhere nothing; its own page range drops it.
        SubmitWide(hw, VtdQi.IotlbDomain(42), VtdQi.PasidIotlb(42, 6), VtdQi.PasidIotlb(42, 5, 0x7000_1000, 0));
        Wait(hw);
        Assert.True(hw.TranslatePasid("dev0", 5, 0x7000_0000, 4, write: true).IsOk);
        SubmitWide(hw, VtdQi.PasidIotlb(42, 5, 0x7000_0000, 0));
        Wait(hw);
        Assert.Equal(DmaFault.Translation, hw.TranslatePasid("dev0", 5, 0x7000_0000, 4, write: true).Fault);
        // All of (DID, PASID), and a global IOTLB invalidation, drop it as well.
        foreach (var desc in new[] { VtdQi.PasidIotlb(42, 5), VtdQi.IotlbGlobal() })
        {
            MapX86(hw, 0x7000_0000, Phys + 0x8000, writable: true);
            Assert.True(hw.TranslatePasid("dev0", 5, 0x7000_0000, 4, write: true).IsOk);
            hw.Memory.Write(Fl + 0x3000 + ((0x7000_0000UL >> 12) & 511) * 8, 0);
            SubmitWide(hw, desc);
            Wait(hw);
            Assert.Equal(DmaFault.Translation, hw.TranslatePasid("dev0", 5, 0x7000_0000, 4, write: true).Fault);
        }
    }

    [Fact]
    public void Pasid_based_descriptors_need_the_wide_queue()
    {
        var (_, hw, _) = Rig();
        var qbase = hw.ReadReg(VtdRegs.Iqa) & ~0xFFFUL;
        var tail = hw.ReadReg(VtdRegs.Iqt);
        var (lo, hi) = VtdQi.PasidCache(1, 43, 6);
        hw.Memory.Write(qbase + tail, lo);
        hw.Memory.Write(qbase + tail + 8, hi);
        hw.WriteReg(VtdRegs.Iqt, (tail + 16) % 4096);
        Assert.Equal(VtdRegs.FstsIqe, (uint)hw.ReadReg(VtdRegs.Fsts) & VtdRegs.FstsIqe);
        // A wide queue takes only 32-byte-aligned tails.
        hw.WriteReg(VtdRegs.Fsts, VtdRegs.FstsIqe);
        WideQueue(hw);
        hw.WriteReg(VtdRegs.Iqt, 16);
        Assert.Equal(VtdRegs.FstsIqe, (uint)hw.ReadReg(VtdRegs.Fsts) & VtdRegs.FstsIqe);
    }

    [Fact]
    public void The_driver_programs_the_rid_through_rid_pasid_on_a_scalable_unit()
    {
        var (system, domain) = Attached(Vtd0Sm, Pci("dev0", "vtd0"));
        var hw = Hw(system);
        Assert.True(hw.Scalable);
        Assert.Equal(VtdQi.IqaDw, hw.ReadReg(VtdRegs.Iqa) & VtdQi.IqaDw);
        Assert.Equal(new HwContext(HwContextKind.Translate, domain.Id), hw.ReadContext("dev0"));
        Assert.Equal(Errno.OK, domain.Map(Iova, Phys, 0x1000, IommuProt.Read | IommuProt.Write, out _));
        Assert.Equal(Phys + 8, system.DeviceDma("dev0", Iova + 8, 4, write: true).Phys);
        // Release: RID_PASID torn down, the context entry cleared and its caches invalidated: nothing stale translates.
        Assert.All(system.Run(new Release("dev0")), o => Assert.Equal(Errno.OK, o.Errno));
        Assert.Equal(HwContextKind.Abort, hw.ReadContext("dev0").Kind);
        Assert.All(system.PossibleTranslations("dev0", Iova, write: false), p => Assert.False(p.Translation.IsOk));
        Assert.Empty(hw.PasidsInUse("dev0"));
    }
}
