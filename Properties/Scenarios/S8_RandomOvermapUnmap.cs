using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using Xunit;
using static IommuConformance.Properties.Scenarios.Sizes;

namespace IommuConformance.Properties.Scenarios;

/// <summary>
/// S8 (generic_pt <c>test_random_map</c>, hardware-and-peers.md §2.4) as an FsCheck property with a fixed seed: random
/// 4K-aligned ranges in a 1 GiB window, pa = iova + 4 GiB (so the best page sizes reach 2M blocks); map each; a
/// failure must be "address in use" (EADDRINUSE), and then every recorded range it overlaps is checked (iova_to_phys
/// of its first and last byte, a DMA) and unmapped (answering exactly its length), and the map is retried and must
/// succeed; at the end everything recorded is unmapped, no leaf is left and the table pages are back. The test's
/// own interval record predicts every outcome, so the whole sequence is a trace with expects: run through the
/// executor (model and implementation compared at each step) and in lockstep with G1 at every step: 4 cases of 250
/// ranges (1,000 in all; the model's unmap of a long range costs milliseconds, so one case of 1,000 took ~10 s). FsCheck shrinks
/// the list of ranges. Adaptation: on vtd only (generic_pt's rules; smmuv3 accepts a block over a table of live
/// pages, arm_lpae_init_pte, so a recorded range can be replaced without a failure and the scenario's bookkeeping
/// does not apply; smmuv3's random maps are covered by the page-table oracle property and the campaign).
/// </summary>
public class S8_RandomOvermapUnmap
{
    private const ulong Window = G1, PaOffset = G4;
    public const int Ranges = 250;

    private static readonly Gen<(ulong Start, ulong Pages)> RangeGen =
        from start in Gen.Choose(0, (int)(Window / K4) - 1)
        from pages in Gen.Frequency((6, Gen.Choose(1, 16)), (3, Gen.Choose(17, 2048)), (1, Gen.Choose(2049, 4096)))
        select ((ulong)start * K4, Math.Min((ulong)pages, Window / K4 - (ulong)start));

    public static Arbitrary<(ulong Start, ulong Pages)[]> RangeLists() =>
        Arb.From(Gen.ArrayOf(RangeGen, Ranges), Shrink);

    /// <summary>Shorter lists first: either half, then each range left out.</summary>
    private static IEnumerable<(ulong, ulong)[]> Shrink((ulong, ulong)[] ranges)
    {
        if (ranges.Length < 2) yield break;
        yield return ranges[..(ranges.Length / 2)];
        yield return ranges[(ranges.Length / 2)..];
        for (var i = 0; i < ranges.Length; i++) yield return [.. ranges[..i], .. ranges[(i + 1)..]];
    }

    /// <summary>The trace the scenario's interval record predicts for these ranges.</summary>
    public static ScenarioTrace Build((ulong Start, ulong Pages)[] ranges)
    {
        var t = new ScenarioTrace("S8 generic_pt random_map", ScenarioDriver.Vtd);
        var recorded = new List<(ulong Start, ulong End)>();
        foreach (var (start, pages) in ranges)
        {
            var end = start + pages * K4;
            var overlapping = recorded.Where(r => r.Start < end && start < r.End).ToList();
            if (overlapping.Count > 0)
            {
                t.Do(new Map(ScenarioTrace.Domain, start, start + PaOffset, end - start, "rw"), Errno.EADDRINUSE);
                foreach (var r in overlapping)
                {
                    t.Phys(r.Start, r.Start + PaOffset).Phys(r.End - 1, r.End - 1 + PaOffset).Dma(r.Start, r.Start + PaOffset)
                        .Unmap(r.Start, r.End - r.Start, r.End - r.Start);
                    recorded.Remove(r);
                }
            }
            t.Map(start, start + PaOffset, end - start).Phys(end - 1, end - 1 + PaOffset);
            recorded.Add((start, end));
        }
        foreach (var r in recorded) t.Unmap(r.Start, r.End - r.Start, r.End - r.Start).DmaFaults(r.Start);
        return t.Teardown();
    }

    [Fact]
    public void Random_ranges_conform_with_a_fixed_seed()
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(4).WithReplay(Microsoft.FSharp.Core.FSharpOption<Replay>.Some(new Replay(new Rnd(20261202UL, 7UL), Microsoft.FSharp.Core.FSharpOption<int>.None))).WithQuietOnSuccess(true);
        var property = Prop.ForAll(RangeLists(), ranges =>
        {
            var scenario = Build(ranges);
            ScenarioRun.ThroughExecutor(scenario.ToTrace(), full: false);
            var result = ScenarioRun.Lockstep(scenario, (i, system, model) =>
            {
                if (i != scenario.Steps.Count - 3) return;     // after the last unmap: no leaf left in the window
                Assert.Empty(ScenarioRun.Leaves(ScenarioRun.DomainOf(system).Pgtable, 0, Window));
                Assert.True(model.MappingsOf(ScenarioTrace.Domain).IsEmpty);
            });
            result.AssertTablePagesAtBaseline();
            return scenario.Steps.Any(s => s.Expect?.Errno == Errno.EADDRINUSE);
        });
        Check.One(config, property);
    }
}
