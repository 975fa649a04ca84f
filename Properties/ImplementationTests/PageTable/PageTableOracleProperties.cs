using FsCheck.Xunit;
using IommuConformance.Contract;
using IommuConformance.Implementations.PageTable;
using Xunit;

namespace IommuConformance.Properties.ImplementationTests.PageTables;

/// <summary>
/// Per format: random map / unmap sequences (in the shapes each format's rules allow: maps anywhere, unmaps of
/// whole earlier maps, single smallest-page unmaps that hit holes, small leaves or the middle of large ones)
/// against <see cref="IntervalOracle"/> with the format's overmap and partial-unmap rule. After every step:
/// the answer, the warnings, iova_to_phys and the hardware walk agree with the oracle around the step and at
/// sampled leaves; at the end the table is freed and every table page is back.
/// </summary>
public class PageTableOracleProperties
{
    private const ulong K4 = 1UL << 12, M2 = 1UL << 21, G1 = 1UL << 30;
    private const string Seed = "20261201,7";

    private enum Rule { Arm, GenericPt, Mock, Virtio }

    [Property(MaxTest = 150, Replay = Seed, QuietOnSuccess = true)]
    public void Arm_lpae_s1_4K_agrees_with_the_oracle(int[] seeds) =>
        Run(PageTableRig.Arm(new ArmLpaeConfig(ArmLpaeStage.Stage1, K4, 48, 48)), Rule.Arm, seeds);

    [Property(MaxTest = 60, Replay = Seed, QuietOnSuccess = true)]
    public void Arm_lpae_s2_16K_agrees_with_the_oracle(int[] seeds) =>
        Run(PageTableRig.Arm(new ArmLpaeConfig(ArmLpaeStage.Stage2, 16384, 40, 40)), Rule.Arm, seeds);

    [Property(MaxTest = 150, Replay = Seed, QuietOnSuccess = true)]
    public void Vtdss_agrees_with_the_oracle(int[] seeds) => Run(PageTableRig.Vtd(48), Rule.GenericPt, seeds);

    [Property(MaxTest = 150, Replay = Seed, QuietOnSuccess = true)]
    public void Mock_agrees_with_the_oracle(int[] seeds) => Run(PageTableRig.Mock(), Rule.Mock, seeds);

    [Property(MaxTest = 150, Replay = Seed, QuietOnSuccess = true)]
    public void Virtio_agrees_with_the_oracle(int[] seeds) => Run(PageTableRig.Virtio(48), Rule.Virtio, seeds);

    private static void Run(PageTableRig rig, Rule rule, int[] seeds)
    {
        var bitmap = rig.Ops.PgsizeBitmap;
        var min = IommuPgsize.MinPagesize(bitmap);
        var sizes = Enumerable.Range(0, 64).Select(b => 1UL << b).Where(s => (bitmap & s) != 0).ToArray();
        var block = sizes.Length > 1 ? sizes[1] : 64 * min;       // the second leaf size, or a stand-in
        var baseIova = rule == Rule.Mock ? MockPgtable.ApertureStart : 0;
        var oracle = new IntervalOracle();
        var rnd = new Random(seeds.Length == 0 ? 1 : seeds.Aggregate(17, (h, s) => h * 31 + s));

        for (var i = 0; i + 3 < seeds.Length; i += 4)
        {
            var (kind, a, b, c) = ((uint)seeds[i] % 8, (ulong)(uint)seeds[i + 1], (ulong)(uint)seeds[i + 2], (ulong)(uint)seeds[i + 3]);
            var iova = baseIova + a % 64 * block + (a / 64 % 2 == 0 ? 0 : c % 16 * min);
            ulong touched, span;
            if (kind < 4)
            {
                var size = (b % 4) switch
                {
                    0 => (c % 8 + 1) * min,
                    1 => block + (c % 3) * min,
                    2 => (c % 3 + 1) * block,
                    _ => sizes.Length > 2 && c % 4 == 0 && rule != Rule.Mock ? sizes[2] : 2 * min,
                };
                var aligned = size >= block * 2 || (b / 4 % 2 == 0);
                var pa = iova + (1UL << 34) + (aligned ? 0 : (c % 7 + 1) * min);
                if (rule == Rule.Mock && iova + size - 1 > MockPgtable.ApertureLast) size = min;
                PredictMap(rule, oracle, bitmap, iova, pa, size, out var errno, out var warns);
                Assert.Equal(errno, rig.Map(iova, pa, size));
                Assert.Equal(warns, rig.Warnings());
                (touched, span) = (iova, size);
            }
            else
            {
                ulong start = iova, len = min;
                if (kind < 6 && oracle.IntactRecords.Count > 0)
                    (start, len) = oracle.Record(oracle.IntactRecords.ElementAt((int)(c % (ulong)oracle.IntactRecords.Count)));
                else if (kind == 7 && rule is Rule.Virtio or Rule.Mock && oracle.IntactRecords.Count > 0)
                {
                    // a whole map call and one page more: on virtio it may straddle the next mapping (RANGE)
                    (start, len) = oracle.Record(oracle.IntactRecords.ElementAt((int)(c % (ulong)oracle.IntactRecords.Count)));
                    len += min;
                }
                else if (kind == 6 && oracle.At(iova) is { } leaf && c % 2 == 0)
                    start = leaf.Iova;                                       // a smallest page at a leaf's start
                PredictUnmap(rule, oracle, start, len, out var bytes, out var warns);
                Assert.Equal(bytes, rig.Unmap(start, len));
                Assert.Equal(warns, rig.Warnings());
                (touched, span) = (start, Math.Max(len, bytes));
            }
            Check(rig, oracle, touched, span, rnd, min);
        }
        foreach (var l in oracle.Leaves) Assert.Equal(l.Pa, rig.Translate(l.Iova));
        rig.Warnings();
        rig.FreeAndCheckBaseline();
    }

    private static void Check(PageTableRig rig, IntervalOracle oracle, ulong start, ulong span, Random rnd, ulong min)
    {
        foreach (var probe in new[] { start, start + span / 2, start + span - 1, start + span, start >= min ? start - 1 : start })
            Assert.Equal(oracle.Translate(probe), rig.Translate(probe));
        var leaves = oracle.Leaves.ToList();
        for (var k = 0; k < Math.Min(8, leaves.Count); k++)
        {
            var l = leaves[rnd.Next(leaves.Count)];
            Assert.Equal(l.Pa + l.Size - 1, rig.Translate(l.Iova + l.Size - 1));
        }
        rig.Warnings(); // the mock's iova_to_phys warns on holes: not an outcome of the step
    }

    private static void PredictMap(Rule rule, IntervalOracle o, ulong bitmap, ulong iova, ulong pa, ulong size, out Errno errno, out PgtableWarning[] warns)
    {
        errno = Errno.OK;
        warns = [];
        var rec = o.NewRecord(iova, size);
        if (rule == Rule.Virtio)
        {
            if (o.Overlapping(iova, size).Count != 0) { o.RemoveRecord(rec); errno = Errno.EINVAL; return; }
            o.Add(new IntervalOracle.Leaf(iova, size, pa, rec));
            return;
        }
        var overwrote = false;
        foreach (var (li, ls, lp) in IntervalOracle.Decompose(bitmap, iova, pa, size))
        {
            var hit = o.Overlapping(li, ls);
            switch (rule)
            {
                case Rule.Arm when hit.Any(h => h.Size >= ls):
                    o.RemoveRecord(rec);
                    errno = Errno.EEXIST;
                    warns = [PgtableWarning.ArmMapExists];
                    return;
                case Rule.GenericPt when hit.Count != 0:
                    o.RemoveRecord(rec);
                    errno = Errno.EADDRINUSE;
                    return;
            }
            foreach (var h in hit) o.Remove(h); // Arm: smaller leaves under a new block; mock: overwritten slots
            overwrote |= hit.Count != 0;
            o.Add(new IntervalOracle.Leaf(li, ls, lp, rec));
        }
        if (rule == Rule.Mock && overwrote) warns = [PgtableWarning.MockMapOverwrite];
    }

    private static void PredictUnmap(Rule rule, IntervalOracle o, ulong start, ulong len, out ulong bytes, out PgtableWarning[] warns)
    {
        warns = [];
        bytes = 0;
        var hit = o.Overlapping(start, len);
        switch (rule)
        {
            case Rule.Mock:
            {
                var w = new List<PgtableWarning>();
                if (hit.Sum(h => (long)h.Size) != (long)len) w.Add(PgtableWarning.MockUnmapEmpty);
                if (!IsRecordStart(o, start)) w.Add(PgtableWarning.MockUnmapNotStart);
                if (!IsRecordLast(o, start + len - 1)) w.Add(PgtableWarning.MockUnmapNotLast);
                foreach (var h in hit) o.Remove(h);
                warns = [.. w];
                bytes = len;
                return;
            }
            case Rule.Virtio:
                if (hit.Any(h => h.Iova < start || h.Iova + h.Size > start + len)) return;
                foreach (var h in hit) { o.Remove(h); bytes += h.Size; }
                return;
        }
        // Arm and generic_pt: a whole map call, or one smallest page
        if (hit.Count != 0 && hit.Sum(h => (long)h.Size) == (long)len && hit.All(h => h.Iova >= start && h.Iova + h.Size <= start + len))
        {
            foreach (var h in hit) o.Remove(h);
            bytes = len;
            return;
        }
        if (hit is not [var leaf])
        {
            if (rule == Rule.Arm) warns = [PgtableWarning.ArmUnmapEmpty];
            return;
        }
        if (rule == Rule.Arm) { warns = [PgtableWarning.ArmUnmapPartialLarge]; return; }
        if (leaf.Iova != start) return;                                  // generic_pt: a start inside the leaf
        o.Remove(leaf);
        bytes = leaf.Size;                                               // the whole leaf, its size answered
    }

    // The mock's markers: a slot is START / LAST when it is the first / last slot of the map call that wrote it.
    private static bool IsRecordStart(IntervalOracle o, ulong iova) =>
        o.At(iova) is { } l && l.Iova == iova && FirstOfCall(o, l);

    private static bool IsRecordLast(IntervalOracle o, ulong last) =>
        o.At(last) is { } l && l.Iova + l.Size - 1 == last && LastOfCall(o, l);

    private static bool FirstOfCall(IntervalOracle o, IntervalOracle.Leaf l) => o.RecordStartOf(l.Record) == l.Iova;

    private static bool LastOfCall(IntervalOracle o, IntervalOracle.Leaf l) => o.RecordLastOf(l.Record) == l.Iova + l.Size - 1;
}
