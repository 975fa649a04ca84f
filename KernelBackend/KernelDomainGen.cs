using IommuConformance.Contract;
using IommuConformance.Harness.Core.Generation;

namespace IommuConformance.KernelBackend;

/// <summary>
/// The kernel campaign's draws of the VFIO domain steps (<see cref="VfioDomains"/>): an allocation for a device of a
/// claimed group, its attach (as a group, or as the device when it is alone in its group), maps on an attached
/// domain (mostly well-formed, a few MiB at most, sometimes malformed, sometimes at the aperture's top or beside the
/// MSI window) and unmaps of whole runs of earlier maps. Only what <see cref="Reach"/> admits is offered.
/// </summary>
public static class KernelDomainGen
{
    private static readonly string[] Prots = [ProtFlags.ReadWrite, ProtFlags.ReadWrite, ProtFlags.Read, ProtFlags.Write, ""];

    /// <summary>The domain steps <paramref name="reach"/> admits now, each with its device index (-1 for map/unmap) and weight.</summary>
    public static IEnumerable<(Operation Op, int Device, double Weight)> Candidates(Reach reach, string[] names, Prng random)
    {
        var domains = reach.Domains;
        var fresh = $"d{Enumerable.Range(1, 64).First(i => !domains.Used($"d{i}"))}";
        var allocs = new List<(Operation, int)>();
        var attaches = new List<(Operation, int)>();
        for (var d = 0; d < names.Length; d++)
        {
            Operation alloc = new DomainAllocPaging(names[d], fresh);
            if (reach.Refusal(alloc, d) is null) allocs.Add((alloc, d));
            if (domains.WaitingIn(reach.GroupKey(d)) is not { } handle) continue;
            foreach (var attach in new Operation[] { new AttachGroup(handle, names[d]), new AttachDevice(handle, names[d]) })
                if (reach.Refusal(attach, d) is null) attaches.Add((attach, d));
        }
        if (allocs.Count > 0) yield return With(random.Pick(allocs), 4);
        if (attaches.Count > 0) yield return With(random.Pick(attaches), 8);
        for (var d = 0; d < names.Length; d++)
        {
            if (domains.AttachedIn(reach.GroupKey(d)) is not { } handle) continue;
            for (var tries = 0; tries < 4; tries++)
            {
                var dma = DrawDma(names[d], domains.Maps(handle), random);
                if (reach.Refusal(dma, d) is not null) continue;
                yield return (dma, d, 6);
                break;
            }
        }
        foreach (var handle in domains.Attached)
        {
            for (var tries = 0; tries < 4; tries++)
            {
                var map = DrawMap(handle, domains.Maps(handle), random);
                if (reach.Refusal(map, -1) is not null) continue;
                yield return (map, -1, 10);
                break;
            }
            if (DrawUnmap(handle, domains.Maps(handle), random) is { } unmap && reach.Refusal(unmap, -1) is null)
                yield return (unmap, -1, 6);
        }
    }

    private static (Operation, int, double) With((Operation Op, int Device) pick, double weight) => (pick.Op, pick.Device, weight);

    private static Map DrawMap(string handle, IReadOnlyList<(ulong Iova, ulong Size)> maps, Prng random)
    {
        const ulong page = VfioDomains.Page;
        var iova = random.Below(10) switch
        {
            3 or 4 when maps.Count > 0 => random.Pick(maps) is var (at, bytes) ? at + bytes : 0,    // right after a map: adjacent runs
            0 => VfioDomains.ApertureLast + 1 - (ulong)random.Between(1, 64) * page, // the aperture's top
            1 => VfioDomains.MsiFirst - (ulong)random.Between(1, 16) * page,        // just below the MSI window
            2 => (ulong)random.Between(0, 31) << 21,                               // 2 MiB aligned
            _ => (ulong)random.Between(0, 4095) * page,                            // the first 16 MiB
        };
        var size = random.Below(8) switch
        {
            0 => 2UL << 20,
            1 => (ulong)random.Between(1, 1024) * page,
            _ => (ulong)random.Between(1, 16) * page,
        };
        var paddr = (random.Chance(0.3) ? (ulong)random.Between(0, 511) << 21 : (ulong)random.Between(0, 262143) * page);
        var prot = random.Pick(Prots);
        switch (random.Below(16)) // malformed, refused on both sides alike
        {
            case 0: size = 0; break;
            case 1: iova += (ulong)random.Between(1, 4095); break;
            case 2: paddr += (ulong)random.Between(1, 4095); break;
            case 3: size += (ulong)random.Between(1, 4095); break;
        }
        return new Map(handle, iova, paddr, size, prot);
    }

    /// <summary>A DMA by edu: inside a map (mostly), or at an IOVA of the first 16 MiB; a write mostly, 1 byte to 4 KiB − 1.</summary>
    private static DeviceDma DrawDma(string dev, IReadOnlyList<(ulong Iova, ulong Size)> maps, Prng random)
    {
        var size = random.Chance(0.5) ? (ulong)random.Between(1, 64) : (ulong)random.Between(1, 4095);
        ulong iova;
        if (maps.Count > 0 && random.Chance(0.7))
        {
            var (at, bytes) = random.Pick(maps);
            size = Math.Min(size, bytes);
            iova = at + (ulong)random.Between(0, (int)Math.Min(bytes - size, 1UL << 20));
        }
        else iova = (ulong)random.Between(0, (16 << 20) - 4096);
        return new DeviceDma(dev, iova, size, random.Chance(0.75));
    }

    /// <summary>An unmap of a run of adjacent earlier maps (one, mostly), or null when the domain maps nothing.</summary>
    private static Unmap? DrawUnmap(string handle, IReadOnlyList<(ulong Iova, ulong Size)> maps, Prng random)
    {
        if (maps.Count == 0) return null;
        var first = random.Below(maps.Count);
        var last = first;
        while (random.Chance(0.3) && last + 1 < maps.Count && maps[last].Iova + maps[last].Size == maps[last + 1].Iova) last++;
        return new Unmap(handle, maps[first].Iova, maps[last].Iova + maps[last].Size - maps[first].Iova);
    }
}
