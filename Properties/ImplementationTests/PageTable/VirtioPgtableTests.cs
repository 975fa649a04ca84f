using IommuConformance.Contract;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.PageTable;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.PageTables;

/// <summary>
/// The virtio-iommu device's mappings with the spec-strict UNMAP rule (virtio spec "Device Requirements: UNMAP
/// request", as crosvm's memory_mapper tests replay the spec's examples; units of 4 KiB pages here).
/// </summary>
public class VirtioPgtableTests
{
    private const ulong P = 4096;

    private static VirtioMappingTable Table(params (ulong First, ulong Last)[] maps)
    {
        var t = new VirtioMappingTable();
        foreach (var (first, last) in maps)
            Assert.Equal(VirtioIommuStatus.Ok, t.Map(first * P, (last + 1) * P - 1, 0x100_0000 + first * P, VirtioMapFlags.Read));
        return t;
    }

    private static VirtioIommuStatus Unmap(VirtioMappingTable t, ulong first, ulong last) => t.Unmap(first * P, (last + 1) * P - 1);

    [Fact]
    public void Map_unmap_and_find_agree_with_a_linear_scan_of_the_mappings()
    {
        // the table finds overlaps by binary search over starts; the reference scans every mapping
        var random = new Random(20261204);
        var t = new VirtioMappingTable();
        var reference = new List<(ulong First, ulong Last)>();
        for (var i = 0; i < 4000; i++)
        {
            var first = (ulong)random.Next(0, 64);
            var last = first + (ulong)random.Next(0, 6);
            var meets = reference.Where(m => m.First <= last && first <= m.Last).ToList();
            if (random.Next(2) == 0)
            {
                var expected = meets.Count > 0 ? VirtioIommuStatus.Inval : VirtioIommuStatus.Ok;
                Assert.Equal(expected, t.Map(first * P, (last + 1) * P - 1, first * P, VirtioMapFlags.Read));
                if (expected == VirtioIommuStatus.Ok) reference.Add((first, last));
            }
            else
            {
                var expected = meets.Any(m => m.First < first || m.Last > last) ? VirtioIommuStatus.Range : VirtioIommuStatus.Ok;
                Assert.Equal(expected, Unmap(t, first, last));
                if (expected == VirtioIommuStatus.Ok) reference.RemoveAll(meets.Contains);
            }
            var page = (ulong)random.Next(0, 72);
            var holder = reference.Where(m => m.First <= page && page <= m.Last).Select(m => (ulong?)m.First).FirstOrDefault();
            Assert.Equal(holder * P, t.Find(page * P + 5)?.VirtStart);
        }
        Assert.Equal(reference.Count, t.Count);
    }

    [Fact]
    public void Unmap_of_exactly_one_mapping_removes_it()
    {
        var t = Table((0, 9));
        Assert.Equal(VirtioIommuStatus.Ok, Unmap(t, 0, 9));
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void Unmap_of_two_adjacent_mappings_at_once_removes_both()
    {
        var t = Table((0, 4), (5, 9));
        Assert.Equal(VirtioIommuStatus.Ok, Unmap(t, 0, 9));
        Assert.Equal(10 * P, t.LastUnmapped);
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void Unmap_that_would_split_a_mapping_is_RANGE_and_removes_nothing()
    {
        var t = Table((0, 9));
        Assert.Equal(VirtioIommuStatus.Range, Unmap(t, 0, 4));
        Assert.Equal(VirtioIommuStatus.Range, Unmap(t, 5, 14));
        Assert.Equal(1, t.Count);
        var two = Table((0, 4), (5, 9));
        Assert.Equal(VirtioIommuStatus.Range, Unmap(two, 0, 6));     // the first is covered, but nothing goes
        Assert.Equal(2, two.Count);
    }

    [Fact]
    public void Unmap_of_one_of_two_mappings_removes_only_it()
    {
        var t = Table((0, 4), (5, 9));
        Assert.Equal(VirtioIommuStatus.Ok, Unmap(t, 0, 4));
        Assert.Equal([5 * P], t.Mappings.Select(m => m.VirtStart));
    }

    [Fact]
    public void Unmap_of_a_range_larger_than_the_mappings_or_of_nothing_is_OK()
    {
        var t = Table((0, 4), (10, 14));
        Assert.Equal(VirtioIommuStatus.Ok, Unmap(t, 20, 29));
        Assert.Equal(2, t.Count);
        Assert.Equal(VirtioIommuStatus.Ok, Unmap(t, 0, 19));
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void Map_refuses_overlaps_unknown_flags_misalignment_and_the_input_range()
    {
        var t = Table((0, 4));
        Assert.Equal(VirtioIommuStatus.Inval, t.Map(4 * P, 6 * P - 1, 0, VirtioMapFlags.Read));
        Assert.Equal(VirtioIommuStatus.Inval, t.Map(8 * P, 9 * P - 1, 0, (VirtioMapFlags)8));
        Assert.Equal(VirtioIommuStatus.Range, t.Map(8 * P + 1, 9 * P - 1, 0, VirtioMapFlags.Read));
        Assert.Equal(VirtioIommuStatus.Range, t.Map(1UL << 48, (1UL << 48) + P - 1, 0, VirtioMapFlags.Read));
        Assert.Equal(1, t.Count);
    }

    [Fact]
    public void Through_the_common_shape_statuses_become_errnos_and_bytes()
    {
        var rig = PageTableRig.Virtio(32);
        Assert.Equal(Errno.OK, rig.Map(0, 0x8000, 4 * P, IommuProt.Read));
        Assert.Equal(Errno.EINVAL, rig.Map(3 * P, 0x9000, 2 * P));             // INVAL: overlap
        Assert.Equal(Errno.ERANGE, rig.Map(1UL << 32, 0, P));                  // RANGE: past the input range
        Assert.Equal(0UL, rig.Unmap(P, P));                                     // RANGE: would split
        Assert.Equal(0x8000UL + P + 1, rig.Translate(P + 1));
        Assert.Equal(WalkStatus.PermissionFault, rig.Ops.Walk(P, IommuPerm.Write).Status);
        Assert.Equal(4 * P, rig.Unmap(0, 8 * P));
        Assert.Equal(0UL, rig.Translate(P));
        rig.FreeAndCheckBaseline();
    }
}
