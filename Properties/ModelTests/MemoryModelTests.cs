using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Model;
using Xunit;
using static IommuConformance.Properties.ModelTests.ModelSession;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// map / unmap / iova_to_phys / device_dma on the model alone, one example per rule and errno and per driver
/// (docs/operations.md "Memory operations"; spec §2 driver table; kernel-semantics.md b.7, c.11).
/// </summary>
public sealed class MemoryModelTests
{
    private const ulong K4 = 0x1000, M2 = 0x20_0000, G1 = 0x4000_0000, MockBase = 0x100_0000;

    private static string N(ulong n) => OutcomeValues.Number(n);

    /// <summary>One instance of each driver, one device on each, probed, with a paging domain each: s (smmuv3), v (vtd), o (virtio), m (mock).</summary>
    private static ModelSession Four(DefaultDomainType global = DefaultDomainType.DmaFq)
    {
        var session = Of(
            [Smmu(), new IommuSpec("vtd0", DriverNames.Vtd, IommuOptions.None), new IommuSpec("virtio0", DriverNames.Virtio, IommuOptions.None), Mock()],
            [new("dev0", BusNames.Pci, "smmu0", "g0"), new("dev1", BusNames.Pci, "vtd0", "g0"), new("dev2", BusNames.Pci, "virtio0", "g0"),
             new("dev3", BusNames.Platform, "mock0", "g0"), new("dev4", BusNames.Pci, null, "g0"), new("dev5", BusNames.Pci, "smmu0", "g5")],
            global);
        foreach (var dev in new[] { "dev0", "dev1", "dev2", "dev3" }) session.Ok(new Probe(dev));
        return session.Ok(new DomainAllocPaging("dev0", "s")).Ok(new DomainAllocPaging("dev1", "v"))
            .Ok(new DomainAllocPaging("dev2", "o")).Ok(new DomainAllocPaging("dev3", "m"));
    }

    [Fact]
    public void Overmap_answers_per_driver()
    {
        Four()
            .Ok(new Map("s", 8 * K4, 0x40_0000, K4, "rw"))
            .Expect(new Map("s", 0, 0x80_0000, 16 * K4, "rw"), Errno.EEXIST, null, Warn.ArmLpaeMapExists)
            .Ok(new Map("v", 8 * K4, 0x40_0000, K4, "rw"))
            .Expect(new Map("v", 0, 0x80_0000, 16 * K4, "rw"), Errno.EADDRINUSE)
            .Ok(new Map("o", 8 * K4, 0x40_0000, K4, "rw"))
            .Expect(new Map("o", 0, 0x80_0000, 16 * K4, "rw"), Errno.EINVAL)
            .Ok(new Map("m", MockBase + 8 * K4, 0x40_0000, K4, "rw"))
            .Expect(new Map("m", MockBase, 0x80_0000, 16 * K4, "rw"), Errno.OK, null, Warn.MockMapOverwrite)
            .Expect(new IovaToPhys("m", MockBase + 8 * K4), Errno.OK, N(0x80_0000 + 8 * K4));
    }

    [Fact]
    public void A_failed_multi_page_map_leaves_nothing_mapped()
    {
        var session = Four().Ok(new Map("s", 8 * K4, 0x40_0000, K4, "rw")).Ok(new Map("v", 8 * K4, 0x40_0000, K4, "rw"));
        session.Expect(new Map("s", 0, 0x80_0000, 16 * K4, "rw"), Errno.EEXIST, null, Warn.ArmLpaeMapExists)
            .Expect(new Map("v", 0, 0x80_0000, 16 * K4, "rw"), Errno.EADDRINUSE);
        foreach (var handle in new[] { "s", "v" })
        {
            session.Expect(new IovaToPhys(handle, 0), Errno.OK, N(0)).Expect(new IovaToPhys(handle, 7 * K4), Errno.OK, N(0))
                .Expect(new IovaToPhys(handle, 8 * K4), Errno.OK, N(0x40_0000));
            Assert.Equal(K4, session.State.MappingsOf(handle).Bytes);
        }
    }

    [Fact]
    public void The_best_page_size_rule_makes_the_leaves_of_a_map_that_straddles_a_block()
    {
        var session = Four().Ok(new Map("s", M2 - K4, G1 + M2 - K4, M2 + 2 * K4, "rw"));
        var leaves = session.State.MappingsOf("s").Runs.Select(r => (r.Iova, r.Size, r.Leaf)).ToArray();
        Assert.Equal([(M2 - K4, K4, K4), (M2, M2, M2), (2 * M2, K4, K4)], leaves);
        // paddr offset differently inside the block: 4K pages only
        session.Ok(new Map("v", M2 - K4, G1 + M2, M2 + 2 * K4, "rw"));
        Assert.All(session.State.MappingsOf("v").Runs, r => Assert.Equal(K4, r.Leaf));
        // a whole 1G block where iova and paddr are 1G-aligned
        session.Ok(new Map("v", 4 * G1, 8 * G1, G1, "r"));
        Assert.Contains(session.State.MappingsOf("v").Runs, r => r.Leaf == G1);
    }

    [Fact]
    public void Partial_unmap_of_a_larger_leaf_answers_per_driver()
    {
        Four()
            // smmuv3: 0 with the warning, nothing split (even at the block's start)
            .Ok(new Map("s", M2, M2, M2, "rw"))
            .Expect(new Unmap("s", M2 + K4, K4), Errno.OK, N(0), Warn.ArmLpaeUnmapPartialLarge)
            .Expect(new Unmap("s", M2, K4), Errno.OK, N(0), Warn.ArmLpaeUnmapPartialLarge)
            .Expect(new IovaToPhys("s", M2 + 5), Errno.OK, N(M2 + 5))
            // vtd: from the block's start the whole leaf goes and its size is answered; from inside, nothing
            .Ok(new Map("v", M2, M2, M2, "rw"))
            .Expect(new Unmap("v", M2 + K4, K4), Errno.OK, N(0))
            .Expect(new Unmap("v", M2, K4), Errno.OK, N(M2))
            .Expect(new IovaToPhys("v", M2 + 5), Errno.OK, N(0))
            // virtio (viommu_del_mappings): from inside a MAP nothing goes; from its start the whole MAP goes, its size
            // answered; a range the MAPs cover only partly answers 0 and removes nothing
            .Ok(new Map("o", 0, 0x10_0000, 2 * K4, "rw"))
            .Expect(new Unmap("o", K4, K4), Errno.OK, N(0))
            .Expect(new IovaToPhys("o", K4), Errno.OK, N(0x10_0000 + K4))
            .Expect(new Unmap("o", 0, K4), Errno.OK, N(2 * K4))
            .Expect(new IovaToPhys("o", K4), Errno.OK, N(0))
            .Ok(new Map("o", 0, 0x10_0000, K4, "rw"))
            .Expect(new Unmap("o", 0, 4 * K4), Errno.OK, N(0))
            .Expect(new IovaToPhys("o", 5), Errno.OK, N(0x10_0005))
            .Expect(new Unmap("o", 0, K4), Errno.OK, N(K4))
            // mock: every slot asked is erased and counted, with warnings for ends that are not a map's ends
            .Ok(new Map("m", MockBase, 0x10_0000, 4 * K4, "rw"))
            .Expect(new Unmap("m", MockBase, 0x800), Errno.OK, N(0x800), Warn.MockUnmapNotLast)
            .Expect(new Unmap("m", MockBase + 3 * K4, K4), Errno.OK, N(K4), Warn.MockUnmapNotStart)
            .Expect(new Unmap("m", MockBase, 4 * K4), Errno.OK, N(4 * K4), Warn.MockUnmapEmpty, Warn.MockUnmapNotStart, Warn.MockUnmapNotLast)
            .Expect(new IovaToPhys("m", MockBase + K4), Errno.OK, N(0), Warn.MockIovaToPhysUnmapped);
    }

    [Fact]
    public void Unmap_stops_at_the_first_hole()
    {
        Four()
            .Ok(new Map("v", 0, 0x10_0000, K4, "rw")).Ok(new Map("v", 2 * K4, 0x20_0000, K4, "rw"))
            .Expect(new Unmap("v", 0, 4 * K4), Errno.OK, N(K4))
            .Expect(new IovaToPhys("v", 2 * K4), Errno.OK, N(0x20_0000))
            // smmuv3: two pages, then the hole: one unmap_pages call warns at it, the core's retry there warns again
            .Ok(new Map("s", 0, 0x10_0000, 2 * K4, "rw"))
            .Expect(new Unmap("s", 0, 4 * K4), Errno.OK, N(2 * K4), Warn.ArmLpaeUnmapEmpty, Warn.ArmLpaeUnmapEmpty)
            .Expect(new Unmap("s", G1, K4), Errno.OK, N(0), Warn.ArmLpaeUnmapEmpty)
            // unaligned or empty: 0, no warning
            .Expect(new Unmap("s", 0x800, K4), Errno.OK, N(0))
            .Expect(new Unmap("s", 0, 0), Errno.OK, N(0));
    }

    [Fact]
    public void Smmuv3_keeps_an_emptied_table_and_an_unmap_at_its_size_removes_it_whole()
    {
        Four()
            .Ok(new Map("s", M2, 0x4000_0000, K4, "rw"))
            .Expect(new Unmap("s", M2, K4), Errno.OK, N(K4))
            .Expect(new Unmap("s", M2, M2), Errno.OK, N(M2))
            .Expect(new Unmap("s", M2, M2), Errno.OK, N(0), Warn.ArmLpaeUnmapEmpty)
            // a block over a table of live pages replaces them (arm_lpae_init_pte)
            .Ok(new Map("s", 4 * M2 + K4, 0x4000_0000, K4, "rw"))
            .Ok(new Map("s", 4 * M2, 4 * M2, M2, "rw"))
            .Expect(new IovaToPhys("s", 4 * M2 + K4), Errno.OK, N(4 * M2 + K4));
    }

    [Fact]
    public void Bad_input_gets_the_kernels_errno()
    {
        Four()
            .Expect(new Map("s", 0x800, 0, K4, "rw"), Errno.EINVAL)
            .Expect(new Map("s", 0, 0x800, K4, "rw"), Errno.EINVAL)
            .Expect(new Map("s", 0, 0, 0x1800, "rw"), Errno.EINVAL)
            .Expect(new Map("s", 0, 0, 0, "rw"), Errno.EINVAL)
            .Expect(new Map("s", 0, 0, K4, "rx"), Errno.EINVAL)
            .Expect(new Map("s", 0, 0, K4, "rr"), Errno.EINVAL)
            .Expect(new Map("s", ulong.MaxValue - K4 + 1, 0, 2 * K4, "rw"), Errno.EINVAL)
            .Ok(new Map("m", MockBase + 0x800, 0x800, 0x800, "rw"))            // the mock's page is 2 KiB
            // no access: smmuv3 EINVAL, vtd EINVAL with the generic_pt warning, virtio and mock map it
            .Expect(new Map("s", 0, 0, K4, "c"), Errno.EINVAL)
            .Expect(new Map("v", 0, 0, K4, "c"), Errno.EINVAL, null, Warn.PtMapNoAccess)
            .Ok(new Map("o", 0, 0, K4, "c"))
            .Ok(new Map("m", MockBase, 0, 0x800, ""))
            // past the aperture / input range or the output size: ERANGE (smmuv3 with its warning)
            .Expect(new Map("s", (1UL << 48) - K4, 0, 2 * K4, "rw"), Errno.ERANGE, null, Warn.ArmLpaeMapRange)
            .Expect(new Map("s", 0, 1UL << 48, K4, "rw"), Errno.ERANGE, null, Warn.ArmLpaeMapRange)
            .Expect(new Map("v", 1UL << 48, 0, K4, "rw"), Errno.ERANGE)
            .Expect(new Map("o", 1UL << 48, 0, K4, "rw"), Errno.ERANGE)
            .Expect(new Map("m", 0, 0, K4, "rw"), Errno.ERANGE)
            .Expect(new Map("m", 1UL << 31, 0, K4, "rw"), Errno.ERANGE)
            .Expect(new Unmap("s", 1UL << 48, K4), Errno.OK, N(0), Warn.ArmLpaeUnmapRange);
    }

    [Fact]
    public void A_freed_or_unbound_handle_is_ENOENT_and_a_mock_domain_freed_with_mappings_warns()
    {
        Four()
            .Ok(new DomainFree("s"))
            .Expect(new Map("s", 0, 0, K4, "rw"), Errno.ENOENT)
            .Expect(new Unmap("s", 0, K4), Errno.ENOENT)
            .Expect(new IovaToPhys("s", 0), Errno.ENOENT)
            .Ok(new Map("m", MockBase, 0, K4, "rw"))
            .Expect(new DomainFree("m"), Errno.OK, null, Warn.MockFreeNotEmpty)
            .Ok(new Map("o", 0, 0, K4, "rw")).Ok(new DomainFree("o"));
    }

    [Fact]
    public void Device_dma_translates_every_byte_through_the_current_domain()
    {
        Four()
            .Ok(new Map("s", K4, 0x5000, K4, "r"))
            .Ok(new Map("s", 2 * K4, 0x9000, K4, "rw"))
            .Expect(new DeviceDma("dev0", K4 + 0x10, 16, false), Errno.EIO, DmaValues.Fault(DmaFaults.Translation)) // still on its DMA default
            .Ok(new AttachGroup("s", "dev0"))
            .Expect(new DeviceDma("dev0", K4 + 0x10, 16, false), Errno.OK, DmaValues.Phys(0x5010))
            .Expect(new DeviceDma("dev0", K4 + 0x10, 16, true), Errno.EIO, DmaValues.Fault(DmaFaults.Permission))
            .Expect(new DeviceDma("dev0", 2 * K4 - 8, 16, false), Errno.OK, DmaValues.Phys(0x5ff8))            // across two mappings
            .Expect(new DeviceDma("dev0", 3 * K4 - 8, 16, false), Errno.EIO, DmaValues.Fault(DmaFaults.Translation)) // into the hole
            .Expect(new DeviceDma("dev0", 3 * K4, 1, false), Errno.EIO, DmaValues.Fault(DmaFaults.Translation))
            .Expect(new DeviceDma("dev0", K4, 0, false), Errno.EINVAL)
            .Expect(new DeviceDma("dev0", K4, 4, false, 1), Errno.EIO, DmaValues.Fault(DmaFaults.NoDomain))
            // just unmapped: faults at once
            .Expect(new Unmap("s", K4, K4), Errno.OK, N(K4))
            .Expect(new DeviceDma("dev0", K4 + 0x10, 16, false), Errno.EIO, DmaValues.Fault(DmaFaults.Translation))
            // moved to the blocking domain (claimed), then released back to the default
            .Ok(new DetachGroup("s", "dev0"))
            .Ok(new ClaimGroupDmaOwner("dev0", "vfio"))
            .Expect(new DeviceDma("dev0", 2 * K4, 4, false), Errno.EIO, DmaValues.Fault(DmaFaults.Blocked))
            // no IOMMU: the bus address is the physical address; unprobed or released: no domain
            .Expect(new DeviceDma("dev4", 0x1234, 4, true), Errno.OK, DmaValues.Phys(0x1234))
            .Expect(new DeviceDma("dev5", 0x1234, 4, true), Errno.EIO, DmaValues.Fault(DmaFaults.NoDomain))
            .Ok(new Release("dev1"))
            .Expect(new DeviceDma("dev1", 0x1234, 4, true), Errno.EIO, DmaValues.Fault(DmaFaults.NoDomain))
            // the mock's static BLOCKED default blocks
            .Expect(new DeviceDma("dev3", MockBase, 4, false), Errno.EIO, DmaValues.Fault(DmaFaults.Blocked));
    }

    [Fact]
    public void Identity_domains_translate_one_to_one()
    {
        Four(DefaultDomainType.Identity)
            .Expect(new DeviceDma("dev0", 0xdead_b000, 8, true), Errno.OK, DmaValues.Phys(0xdead_b000))
            .Expect(new DeviceDma("dev1", 0x1_0000_0000, 8, false), Errno.OK, DmaValues.Phys(0x1_0000_0000))
            .Expect(new DeviceDma("dev2", 7, 1, false), Errno.OK, DmaValues.Phys(7));
    }

    [Fact]
    public void Values_round_trip_through_the_trace_format()
    {
        var json = """
            { "format": "iommu-conformance-trace/1", "config": { "cpus": 2, "defaultDomain": "DMA-FQ" },
              "topology": { "iommus": [ { "name": "vtd0", "driver": "vtd" } ],
                            "devices": [ { "name": "dev0", "bus": "pci", "iommu": "vtd0", "group": "g0" } ] },
              "steps": [
                { "op": "probe", "dev": "dev0" },
                { "op": "domain_alloc_paging", "dev": "dev0", "as": "d1" },
                { "op": "map", "domain": "d1", "iova": "0x200000", "paddr": 4096, "size": "0x1000", "prot": "rw" },
                { "op": "unmap", "domain": "d1", "iova": 0, "size": 4096, "expect": { "errno": "OK", "value": 0 } },
                { "op": "iova_to_phys", "domain": "d1", "iova": "0x200010", "expect": { "errno": "OK", "value": "0x1010" } },
                { "op": "device_dma", "dev": "dev0", "iova": 16, "size": 4, "write": false, "expect": { "errno": "EIO", "value": { "fault": "translation" } } },
                { "op": "device_dma", "dev": "dev0", "iova": 16, "size": 4, "write": true, "pasid": 3, "expect": { "errno": "EIO", "value": { "fault": "no_domain" } } },
                { "op": "device_dma", "dev": "dev0", "iova": 16, "size": 4, "write": false, "expect": { "errno": "OK", "value": { "phys": "0x10" } } }
              ] }
            """;
        var trace = TraceJson.Read(json);
        Assert.Equal("0x0", trace.Steps[3].Expect!.Value);
        Assert.Equal("0x1010", trace.Steps[4].Expect!.Value);
        Assert.Equal(DmaValues.Fault(DmaFaults.Translation), trace.Steps[5].Expect!.Value);
        Assert.Equal(DmaValues.Phys(0x10), trace.Steps[7].Expect!.Value);
        var written = TraceJson.Write(trace);
        Assert.Contains("\"value\": { \"fault\": \"translation\" }", written);
        Assert.Contains("\"value\": { \"phys\": 16 }", written);
        Assert.Equal(trace, TraceJson.Read(written));
        // the model answers the first six expects (the last one is wrong on purpose: the device is on its DMA default)
        var state = ModelState.Initial(trace.Config, trace.Topology);
        foreach (var step in trace.Steps.Take(7))
        {
            var result = state.Step(step.Op);
            Assert.True(step.Expect?.Admits(result.Outcome) ?? true, $"{step.Op}: {result.Outcome}");
            state = result.Next;
        }
        Assert.False(trace.Steps[7].Expect!.Admits(state.Step(trace.Steps[7].Op).Outcome));
        Assert.Throws<Harness.Core.Json.TraceFormatException>(() => TraceJson.Read(json.Replace("{ \"fault\": \"translation\" }", "{ \"fault\": \"x\", \"phys\": 1 }")));
    }

    /// <summary>
    /// A DMA over a still-mapped page and a lazily unmapped one whose stale IOTLB entry may still be held: the second
    /// part may answer through the entry or through the tables (campaign 7,12345 trace 93511 had the stale page first:
    /// corpus/lazy-stale-entry-and-live-page.json); an address neither gives is refused.
    /// </summary>
    [Fact]
    public void A_dma_over_a_live_page_and_a_stale_one_may_answer_through_both()
    {
        var trace = TraceJson.ReadFile(Path.Combine(Corpus.CorpusFiles.Root, "lazy-stale-entry-and-live-page.json"));
        var state = ModelState.Initial(trace.Config, trace.Topology).Step(new Probe("dev0")).Next;
        ulong Mapped(ref ModelState s, ulong paddr, string name)
        {
            var step = s.Step(new DmaMap("dev0", paddr, K4, DmaDirections.Bidirectional, 0, name));
            s = step.Next;
            Assert.True(OutcomeValues.TryNumber(step.Outcome.Value, out var iova));
            return iova;
        }
        var a = Mapped(ref state, 0, "i1");
        var b = Mapped(ref state, 0x5000, "i2");
        Assert.Equal(a - K4, b);                                           // top-down: the second sits just below
        state = state.Step(new DeviceDma("dev0", a, 1, false)).Next;       // the IOTLB now holds a's page
        state = state.Step(new DmaUnmap("dev0", a, null, K4, DmaDirections.Bidirectional, 0)).Next;   // lazy: queued
        var dma = new DeviceDma("dev0", b, K4 + 1, false);
        var translation = new Outcome(Errno.EIO, DmaValues.Fault(DmaFaults.Translation), []);
        Assert.Equal(translation, state.Step(dma).Outcome);
        Assert.True(state.Judge(dma, translation).Allowed);
        Assert.True(state.Judge(dma, Outcome.OkWith(DmaValues.Phys(0x5000))).Allowed);
        Assert.False(state.Judge(dma, Outcome.OkWith(DmaValues.Phys(0))).Allowed);
        Assert.False(state.Judge(dma, new Outcome(Errno.EIO, DmaValues.Fault(DmaFaults.Permission), [])).Allowed);
    }
}
