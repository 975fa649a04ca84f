using FsCheck;
using FsCheck.Fluent;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Generation;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Model;
using Xunit;
using Xunit.Abstractions;

namespace IommuConformance.Properties.ModelTests;

/// <summary>
/// The model's mapping store against an independent oracle (a page → physical address dictionary) on random
/// map / unmap sequences of every driver; a failed step returns the same state with the memory operations on; and
/// the memory-operation run meets its catalogue (printed for docs/generation.md).
/// </summary>
public sealed class MemoryModelProperties(ITestOutputHelper output)
{
    private static readonly FsCheck.Config Fixed = FsCheck.Config.QuickThrowOnFailure
        .WithReplay(Microsoft.FSharp.Core.FSharpOption<Replay>.Some(new Replay(new Rnd(20260601UL, 0x9E3779B97F4A7C15UL), Microsoft.FSharp.Core.FSharpOption<int>.None)));

    private sealed record Step(bool IsMap, ulong Iova, ulong Paddr, ulong Size, string Prot);

    /// <summary>Steps in a 4 MiB window (two 2M blocks), sizes up to 2M + a few pages, in units of the driver's page.</summary>
    private static Gen<Step[]> Steps(ulong page, ulong start) =>
        Gen.ArrayOf(
            from isMap in Gen.Frequency((3, Gen.Constant(true)), (2, Gen.Constant(false)))
            from at in Gen.Choose(0, (int)(0x40_0000 / page) - 1)
            from kind in Gen.Choose(0, 9)
            from n in Gen.Choose(1, 8)
            from shift in Gen.Choose(0, 3)
            from prot in Gen.Elements("rw", "r", "w")
            let iova = start + (kind < 3 ? (ulong)at * page & ~0x1F_FFFUL : (ulong)at * page)
            let size = kind < 3 ? 0x20_0000UL * (ulong)(1 + shift % 2) : (ulong)n * page
            select new Step(isMap, iova, kind % 2 == 0 ? iova + 0x4000_0000 : iova + 0x4000_0000 + page * (ulong)shift, size, prot));

    public static TheoryData<string> Drivers() => [.. DriverNames.All];

    [Theory]
    [MemberData(nameof(Drivers))]
    public void The_mapping_store_agrees_with_a_page_oracle(string driver)
    {
        var caps = DriverCapabilities.For(driver)!.Paging;
        var page = caps.MinPage;
        var start = caps.ApertureStart;
        var bus = driver == DriverNames.Mock ? BusNames.Platform : BusNames.Pci;
        var topology = new Topology([new IommuSpec("i0", driver, IommuOptions.None)], [new DeviceSpec("dev0", bus, "i0", "g0")]);
        var checkedSteps = 0;
        var property = Prop.ForAll(Steps(page, start).ToArbitrary(), steps =>
        {
            var state = ModelState.Initial(SystemConfig.Default, topology).Step(new Probe("dev0")).Next
                .Step(new DomainAllocPaging("dev0", "d1")).Next;
            var oracle = new Dictionary<ulong, ulong>();   // page-aligned IOVA → physical address
            foreach (var step in steps)
            {
                checkedSteps++;
                Operation op = step.IsMap ? new Map("d1", step.Iova, step.Paddr, step.Size, step.Prot) : new Unmap("d1", step.Iova, step.Size);
                var result = state.Step(op);
                if (step.IsMap && result.Outcome.Errno == Errno.OK)
                    for (ulong off = 0; off < step.Size; off += page) oracle[step.Iova + off] = step.Paddr + off;
                else if (step.IsMap && caps.Format == PageTableFormat.ArmLpae)
                {
                    // the documented leftover: a block replaced a table of pages before a later leaf failed; only pages
                    // inside the map's range may go, none may change
                    var after = result.Next.MappingsOf("d1");
                    foreach (var k in oracle.Keys.Where(k => after.Find(k) is null).ToList())
                    {
                        Assert.InRange(k, step.Iova, step.Iova + step.Size - 1);
                        oracle.Remove(k);
                    }
                }
                else if (!step.IsMap)
                {
                    Assert.True(OutcomeValues.TryNumber(result.Outcome.Value, out var bytes));
                    // where the oracle drops pages: smmuv3 and vtd the bytes answered from iova on (a whole leaf may
                    // reach past the range), virtio every page of the range when something went, the mock every page asked
                    // (virtio: every MAP from iova on that the range meets, whole: what the store no longer holds)
                    var after = result.Next.MappingsOf("d1");
                    if (caps.PartialUnmap == PartialUnmapRule.Strict && bytes != 0)
                    {
                        var gone = oracle.Keys.Where(k => k >= step.Iova && after.Find(k) is null).ToList();
                        Assert.Equal((ulong)gone.Count * page, bytes);
                        Assert.All(oracle.Keys.Where(k => k >= step.Iova && k < step.Iova + step.Size), k => Assert.Contains(k, gone));
                        foreach (var k in gone) oracle.Remove(k);
                    }
                    var (from, to) = caps.PartialUnmap switch
                    {
                        PartialUnmapRule.Strict => (0UL, 0UL),
                        PartialUnmapRule.Requested => (step.Iova, step.Iova + step.Size),
                        _ => (step.Iova, step.Iova + bytes),
                    };
                    if (caps.PartialUnmap == PartialUnmapRule.Requested) Assert.Equal(step.Size, bytes);
                    if (caps.PartialUnmap == PartialUnmapRule.WholeLeaf)   // generic_pt counts only what was mapped: no hole inside
                        Assert.All(Enumerable.Range(0, (int)(bytes / page)), i => Assert.True(oracle.ContainsKey(step.Iova + (ulong)i * page)));
                    foreach (var k in oracle.Keys.Where(k => k >= from && k < to).ToList()) oracle.Remove(k);
                }
                if (result.Outcome.Errno != Errno.OK && caps.Format != PageTableFormat.ArmLpae) Assert.Same(state, result.Next);
                state = result.Next;

                // the store and the oracle hold the same pages, and iova_to_phys reads them
                var mappings = state.MappingsOf("d1");
                Assert.Equal((ulong)oracle.Count * page, mappings.Bytes);
                foreach (var (iova, phys) in oracle)
                    if (mappings.Find(iova) is not { } run || run.Paddr + (iova - run.Iova) != phys)
                        return false.Label($"{op}: page 0x{iova:x} should map 0x{phys:x}");
            }
            return true.Label("ok");
        });
        Check.One(Fixed.WithMaxTest(150), property);
        Assert.True(checkedSteps > 1000, $"only {checkedSteps} steps checked");
    }

    [Fact]
    public void A_failed_step_returns_the_same_state_instance_with_the_memory_operations_on()
    {
        var failed = 0;
        var memory = 0;
        var settings = TraceGenSettings.Default;
        var property = Prop.ForAll(Arb.From(TraceGen.Trace(settings)), trace =>
        {
            var state = ModelState.Initial(trace.Config, trace.Topology);
            foreach (var step in trace.Steps)
            {
                var result = state.Step(step.Op);
                var judged = state.Judge(step.Op, result.Outcome);
                if (!judged.Allowed || !judged.Next.Equals(result.Next)) return false.Label($"judging {step.Op} disagrees with stepping it");
                if (step.Op is Map or Unmap or IovaToPhys or DeviceDma) memory++;
                // documented leftovers: an aborted bus probe; table entries a failed smmuv3 map created or replaced; the
                // hardware of a member a failed switch left behind (FailedStepProperties.OnlyHardwareMoved)
                var leftover = step.Op is BusProbe || (step.Op is Map m && state.PagingOf(m.Domain)?.Format == PageTableFormat.ArmLpae);
                if (result.Outcome.Errno != Errno.OK && !leftover)
                {
                    failed++;
                    if (!ReferenceEquals(result.Next, state) && !FailedStepProperties.OnlyHardwareMoved(state, result.Next))
                        return false.Label($"{step.Op} failed ({result.Outcome}) but changed the state");
                }
                // reads never change the state
                if (step.Op is IovaToPhys or DeviceDma && !ReferenceEquals(result.Next, state)) return false.Label($"{step.Op} changed the state");
                state = result.Next;
            }
            return true.Label("ok");
        });
        Check.One(Fixed.WithMaxTest(300), property);
        Assert.True(failed > 100 && memory > 1000, $"only {failed} failed and {memory} memory steps were generated");
    }

    [Fact]
    public void The_memory_run_meets_every_reachable_outcome_and_no_other()
    {
        var settings = TraceGenSettings.Default;
        // 2,500 traces since the DMA API and PASID rules joined (they take a share of the steps; the rarest mock unmap pair needs them)
        var stats = GenerationStats.Measure(new CheckSettings() with { MaxTest = 2500 }, settings);
        output.WriteLine(stats.ToMarkdown());
        Assert.Empty(stats.Unexpected());
        // the memory pairs must all be met (core pairs are the default run's job: this run spends its steps on memory)
        var memoryOps = IommuRules.MemoryOperations.Append(DomainFree.Entry.Name).ToHashSet();
        var missing = stats.Missing().Where(m => memoryOps.Contains(m.Op) && OutcomeCatalogue.MemoryPairs.Contains((m.Op, m.Outcome))).ToList();
        foreach (var m in stats.Missing()) output.WriteLine($"missing: {m.Op} {m.Outcome}");
        Assert.Empty(missing);
        Assert.All(IommuRules.MemoryOperations, op => Assert.True(stats.StepsOf(op) > 0, $"{op} never generated"));
    }

    [Fact]
    public void Memory_generation_is_deterministic_and_reaches_every_driver()
    {
        var settings = TraceGenSettings.Default;
        Assert.Equal(TraceGen.Build(settings, 3, 60), TraceGen.Build(settings, 3, 60));
        var drivers = Enumerable.Range(0, 200).SelectMany(i => TraceGen.Build(settings, (ulong)i, 30).Topology.Iommus.Select(x => x.Driver)).ToHashSet();
        Assert.Equal(DriverNames.All.Order(), drivers.Order());
        Assert.Contains(Enumerable.Range(0, 200).Select(i => TraceGen.Build(settings, (ulong)i, 60)),
            t => t.Steps.Any(s => IommuRules.MemoryOperations.Contains(s.Op.Name)));
        _ = new Prng(1);
    }
}
