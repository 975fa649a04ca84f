using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Virtio;
using IommuConformance.Properties.ImplementationTests.HardwareTests;
using Xunit;
using S = IommuConformance.Implementations.PageTable.VirtioIommuStatus;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.VirtioRig;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S2 (hardware-and-peers.md §6; QEMU qtest map_unmap and the spec's UNMAP examples, with crosvm's translate checks)
/// through the emulated device's request queue, after ATTACH(1, ep 0). The qtest's byte ranges [0,4], [5,9] … are
/// pages here (the device's granule is 4 KiB and it refuses unaligned MAPs, as the spec says). After each step:
/// the first and last byte of every surviving mapping translate to phys + offset, removed and never-mapped pages
/// fault (MAPPING, in the event queue), and a write to a read-only mapping faults with the WRITE flag.
/// </summary>
public class S2_VirtioMapUnmap
{
    private static VirtioRig Attached()
    {
        var rig = new VirtioRig();
        Assert.Equal(S.Ok, rig.Attach(1, 0));
        return rig;
    }

    /// <summary>Pages of [0, 20] that are mapped: each one's first and last byte reach phys + offset; the others fault.</summary>
    private static void Dev(VirtioRig rig, params ulong[] mapped)
    {
        rig.Faults();
        var faulted = 0;
        for (ulong page = 0; page <= 20; page++)
        {
            foreach (var at in new[] { page * P, page * P + P - 4 })
            {
                var t = rig.Dma(0, at);
                if (mapped.Contains(page)) Assert.Equal(Phys(page) + (at - page * P), t.Phys);
                else
                {
                    Assert.Equal(DmaFault.Translation, t.Fault);
                    faulted++;
                }
            }
        }
        var faults = rig.Faults();
        Assert.Equal(Math.Min(faulted, 8), faults.Count);   // 8 event buffers posted
        Assert.All(faults, f => Assert.Equal((ViommuFault.Mapping, ViommuFault.FAddress | ViommuFault.FRead), (f.Reason, f.Flags)));
        foreach (var page in mapped)
        {
            Assert.Equal(DmaTranslation.Faulted(DmaFault.Permission), rig.Dma(0, page * P, write: true));
            Assert.Equal([(ViommuFault.Mapping, ViommuFault.FAddress | ViommuFault.FWrite, 0u, page * P)], rig.Faults());
        }
    }

    [Fact]
    public void Step1_map_to_missing_domain_overlap()
    {
        var rig = Attached();
        Assert.Equal(S.NoEnt, rig.Map(0, 0, 0xFFF, 0xa1000));
        Assert.Equal(S.Ok, rig.Map(1, 0, 0xFFF, Phys(0)));
        Assert.Equal(S.Inval, rig.Map(1, 0, 0xFFFF, 0xa1000));
        Dev(rig, 0);
    }

    [Fact]
    public void Step2_unmap_missing_domain_split_then_cover()
    {
        var rig = Attached();
        Assert.Equal(S.Ok, rig.Map(1, 0, 0xFFF, Phys(0)));
        Assert.Equal(S.NoEnt, rig.Unmap(4, 0x10, 0xFFF));
        Assert.Equal(S.Range, rig.Unmap(1, 0x10, 0xFFF));
        Dev(rig, 0);
        Assert.Equal(S.Ok, rig.Unmap(1, 0, 0x1000));
        Dev(rig);
    }

    [Fact]
    public void Step3_unmap_of_nothing_is_ok()
    {
        var rig = Attached();
        Assert.Equal(S.Ok, rig.UnmapPages(1, 0, 4));
        Dev(rig);
    }

    [Fact]
    public void Step4_to_9_the_spec_examples()
    {
        var rig = Attached();
        // 4
        Assert.Equal(S.Ok, rig.MapPages(1, 0, 9));
        Dev(rig, [.. Range(0, 9)]);
        Assert.Equal(S.Ok, rig.UnmapPages(1, 0, 9));
        Dev(rig);
        // 5
        Assert.Equal(S.Ok, rig.MapPages(1, 0, 4));
        Assert.Equal(S.Ok, rig.MapPages(1, 5, 9));
        Assert.Equal(S.Ok, rig.UnmapPages(1, 0, 9));
        Dev(rig);
        // 6
        Assert.Equal(S.Ok, rig.MapPages(1, 0, 9));
        Assert.Equal(S.Range, rig.UnmapPages(1, 0, 4));
        Dev(rig, [.. Range(0, 9)]);
        Assert.Equal(S.Ok, rig.UnmapPages(1, 0, 10));
        Dev(rig);
        // 7
        Assert.Equal(S.Ok, rig.MapPages(1, 0, 4));
        Assert.Equal(S.Ok, rig.MapPages(1, 5, 9));
        Assert.Equal(S.Ok, rig.UnmapPages(1, 0, 4));
        Dev(rig, [.. Range(5, 9)]);
        Assert.Equal(S.Ok, rig.UnmapPages(1, 5, 9));
        Dev(rig);
        // 8
        Assert.Equal(S.Ok, rig.MapPages(1, 0, 4));
        Assert.Equal(S.Ok, rig.UnmapPages(1, 0, 9));
        Dev(rig);
        // 9
        Assert.Equal(S.Ok, rig.MapPages(1, 0, 4));
        Assert.Equal(S.Ok, rig.MapPages(1, 10, 14));
        Assert.Equal(S.Ok, rig.UnmapPages(1, 0, 14));
        Dev(rig);
        Assert.Equal(S.Ok, rig.MapPages(1, 10, 14));
        Assert.Equal(S.Ok, rig.MapPages(1, 0, 4));
        Assert.Equal(S.Ok, rig.UnmapPages(1, 0, 4));
        Assert.Equal(S.Inval, rig.MapPages(1, 10, 14));
        Dev(rig, [.. Range(10, 14)]);
    }

    [Fact]
    public void Gray_area_a_range_unmap_removes_nothing_spec_strict()
    {
        var rig = Attached();
        Assert.Equal(S.Ok, rig.MapPages(1, 0, 4));
        Assert.Equal(S.Ok, rig.MapPages(1, 10, 20));
        Assert.Equal(S.Range, rig.UnmapPages(1, 0, 14));
        // spec-strict: [0,4] survives (QEMU would have removed it before meeting [10,20])
        Assert.Equal(2, rig.Hw.DomainMappingCounts[1]);
        Dev(rig, [.. Range(0, 4), .. Range(10, 20)]);
    }

    private static IEnumerable<ulong> Range(ulong first, ulong last)
    {
        for (var p = first; p <= last; p++) yield return p;
    }
}
