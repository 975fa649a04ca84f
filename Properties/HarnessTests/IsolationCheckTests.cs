using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Implementations;
using IommuConformance.Implementations.Hardware;
using IommuConformance.Implementations.Hardware.Smmuv3;
using IommuConformance.Implementations.Hardware.Vtd;
using Xunit;
using static IommuConformance.Properties.ImplementationTests.HardwareTests.HwRig;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The isolation check (G1) and the page-table check (G3/G4) each fail on a deliberate perturbation of the correct
/// implementation, left through the hardware's public API after one step of a short trace (<see cref="PerturbedSystem"/>):
/// a stale IOTLB entry, a leaf the model does not have, a leaf with the wrong output, a table page linked from two
/// roots, a table page freed while still linked, a page kept at domain free. The same trace unperturbed passes.
/// </summary>
public class IsolationCheckTests
{
    private const ulong Iova = 0x100_0000, Phys = 0x4000_0000, Size = 0x4000;

    public static TheoryData<string> Drivers => [DriverNames.Smmuv3, DriverNames.Vtd, DriverNames.Mock];

    public static TheoryData<string> CachingDrivers => [DriverNames.Smmuv3, DriverNames.Vtd];

    // Steps: 0 probe dev0, 1 probe dev1, 2 alloc d1, 3 alloc d2, 4 attach d1 dev0, 5 attach d2 dev1, 6 map d1, 7 dma (fills
    // the IOTLB), 8 iova_to_phys (touches nothing), 9 unmap d1, 10 dma (faults), 11 detach d1, 12 free d1, 13 get_domain.
    private const int MapStep = 6, DmaStep = 7, QuietStep = 8, UnmapStep = 9, FreeStep = 12;

    private static Trace TraceOn(string driver)
    {
        var instance = Instance(driver);
        var bus = driver == DriverNames.Mock ? BusNames.Platform : BusNames.Pci;
        var topology = new Topology([new IommuSpec(instance, driver, IommuOptions.None)],
            [new DeviceSpec("dev0", bus, instance, "g0"), new DeviceSpec("dev1", bus, instance, "g1")]);
        Operation[] ops =
        [
            new Probe("dev0"), new Probe("dev1"), new DomainAllocPaging("dev0", "d1"), new DomainAllocPaging("dev1", "d2"),
            new AttachDevice("d1", "dev0"), new AttachDevice("d2", "dev1"), new Map("d1", Iova, Phys, Size, "rw"),
            new DeviceDma("dev0", Iova + 0x10, 4, false), new IovaToPhys("d1", Iova), new Unmap("d1", Iova, Size),
            new DeviceDma("dev0", Iova + 0x10, 4, false), new DetachDevice("d1", "dev0"), new DomainFree("d1"), new GetDomain("dev0"),
        ];
        return new Trace($"isolation on {driver}", [], SystemConfig.Default, topology, [.. ops.Select(o => new TraceStep(o))]);
    }

    private static string Instance(string driver) => driver switch
    {
        DriverNames.Smmuv3 => "smmu0",
        DriverNames.Vtd => "vtd0",
        _ => "mock0",
    };

    private static RunReport<Trace> Run(string driver, int atStep, Action<IommuSystem>? poke, ExecutorChecks checks, List<PerturbedSystem>? built = null) =>
        Executor.Run(TraceOn(driver), PerturbedSystem.Sides(atStep, poke, built), checks);

    private static Iotlb IotlbOf(IommuSystem machine) => machine.HardwareOf("smmu0") is Smmuv3Hardware s ? s.Iotlb
        : Assert.IsType<VtdHardware>(machine.HardwareOf("vtd0")).Iotlb;

    private static int D1(IommuSystem machine) => machine.DomainOfHandle("d1")!.Id;

    private static Implementations.Hardware.Memory.FrameAllocator Allocator(IommuSystem machine) =>
        machine.HardwareOf(machine.HardwareOf("smmu0") is null ? machine.HardwareOf("vtd0") is null ? "mock0" : "vtd0" : "smmu0")!.Platform.Allocator;

    private static void AssertFails(RunReport<Trace> report, int step, string check, string text)
    {
        Assert.False(report.Conformant, "the perturbation went unnoticed");
        Assert.Equal(step, report.FailingIndex);
        Assert.Equal(check, report.Problem!.Check);
        Assert.Equal(ProblemKind.Invariant, report.Problem.Kind);
        Assert.Contains(text, report.Problem.Message);
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void The_unperturbed_trace_passes_every_check_and_is_probed(string driver)
    {
        var built = new List<PerturbedSystem>();
        var report = Run(driver, -1, null, ExecutorChecks.All, built);
        Assert.True(report.Conformant, report.Problem?.Message);
        var system = Assert.Single(built);
        Assert.True(system.Probes > 50, $"only {system.Probes} probes");
        Assert.True(system.TablePagesSeen > 0);
        if (driver != DriverNames.Mock) Assert.True(system.IotlbAnswers > 0, "the DMA's IOTLB entry was never probed");
    }

    [Theory]
    [MemberData(nameof(CachingDrivers))]
    public void A_stale_iotlb_entry_after_an_unmap_is_caught_at_the_unmap(string driver)
    {
        var report = Run(driver, UnmapStep, m => IotlbOf(m).Insert(new IotlbEntry(D1(m), Iova, 0x1000, Phys, IommuPerm.ReadWrite)),
            ExecutorChecks.Isolation);
        AssertFails(report, UnmapStep, "isolation", $"the model's domain d1 faults, but the hardware's IOTLB entry reaches 0x{Phys:x}");
    }

    [Theory]
    [MemberData(nameof(CachingDrivers))]
    public void A_stale_iotlb_entry_no_step_touched_is_found_by_the_sweep_and_named_by_the_full_rerun(string driver)
    {
        // After the DMA only iova_to_phys steps, which touch nothing: no step's own probes reach the entry (any step that
        // touched the instance would enumerate its IOTLB); the sweep at the last step does.
        var full = TraceOn(driver);
        var trace = full.WithSteps(full.Steps.Take(QuietStep + 1).Concat(Enumerable.Repeat(full.Steps[QuietStep], 5)));
        static void Poke(IommuSystem m) => IotlbOf(m).Insert(new IotlbEntry(D1(m), 0x2000_0000, 0x1000, 0x7000_0000, IommuPerm.Read));
        var report = Executor.Run(trace, PerturbedSystem.Sides(QuietStep, Poke), ExecutorChecks.Isolation);
        AssertFails(report, QuietStep, "isolation", "IOTLB entry reaches 0x70000000");
        var blind = CaseExecutor.Run(trace, new NoSweeps(new IommuBinding(ExecutorChecks.Isolation, PerturbedSystem.Sides(QuietStep, Poke))),
            CheckMode.Incremental);
        Assert.True(blind.Conformant, "without a sweep nothing probes the entry");
    }

    /// <summary>A binding with no sweep at all.</summary>
    private sealed class NoSweeps(IommuBinding binding) : IRunBinding<Trace>
    {
        public RunSetup Start(Trace trace, CheckMode mode)
        {
            var setup = binding.Start(trace, mode);
            return new RunSetup { Model = setup.Model, System = setup.System, Checks = setup.Checks, SweepEvery = int.MaxValue, SweepAtEnd = false };
        }
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void A_leaf_the_unmap_left_behind_is_caught_by_the_fresh_walk(string driver)
    {
        // A driver whose unmap forgot a page: the page table still maps the first page after the step.
        var report = Run(driver, UnmapStep, m => Assert.Equal(Errno.OK,
            m.PagingDomain(D1(m))!.Map(Iova, Phys, 0x1000, Implementations.PageTable.IommuProt.Read, out _)), ExecutorChecks.Isolation);
        AssertFails(report, UnmapStep, "isolation", $"faults, but the hardware's fresh walk reaches 0x{Phys:x}");
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void A_leaf_with_the_wrong_output_address_is_caught_at_the_map(string driver)
    {
        const ulong page = 0x800;   // the mock's page; the other drivers rewrite one 4 KiB page
        var report = Run(driver, MapStep, m =>
        {
            var domain = m.PagingDomain(D1(m))!;
            var leaf = driver == DriverNames.Mock ? page : 0x1000;
            Assert.Equal(leaf, domain.Unmap(Iova + 0x2000, leaf, out _));
            Assert.Equal(Errno.OK, domain.Map(Iova + 0x2000, Phys + 0x10_0000, leaf, Implementations.PageTable.IommuProt.Read | Implementations.PageTable.IommuProt.Write, out _));
        }, ExecutorChecks.Isolation);
        AssertFails(report, MapStep, "isolation", $"maps it to 0x{Phys + 0x2000:x}, but the hardware's fresh walk reaches 0x{Phys + 0x10_0000:x}");
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void A_table_page_linked_from_two_roots_is_caught(string driver)
    {
        // d2's root gets a copy of d1's first top-level entry: d1's lower tables are now reachable from both roots.
        var report = Run(driver, MapStep, m =>
        {
            var d1 = m.TablesOfDomain(D1(m))!;
            var d2 = m.TablesOfDomain(m.DomainOfHandle("d2")!.Id)!;
            var memory = Allocator(m).Memory;
            var i = Enumerable.Range(0, 512).First(k => memory.Read(d1.Root + (ulong)k * 8) != 0);
            memory.Write(d2.Root + (ulong)i * 8, memory.Read(d1.Root + (ulong)i * 8));
        }, ExecutorChecks.PageTables);
        AssertFails(report, MapStep, "page tables", "is reachable from the roots of domain #");
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void A_table_page_freed_while_still_linked_is_caught(string driver)
    {
        var report = Run(driver, MapStep, m => Allocator(m).Free(m.TablesOfDomain(D1(m))!.Pages[^1]), ExecutorChecks.PageTables);
        AssertFails(report, MapStep, "page tables", "is free in the frame allocator");
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void A_table_page_kept_at_domain_free_is_caught(string driver)
    {
        // Allocating right after the free takes back the last page the free released (the allocator is LIFO): that
        // page is allocated again but in no table, as if the free had leaked it.
        var report = Run(driver, FreeStep, m => Assert.Equal(Errno.OK, Allocator(m).Alloc(0, out _)), ExecutorChecks.PageTables);
        AssertFails(report, FreeStep, "page tables", "was freed, but its table page 0x");
    }

    [Theory]
    [InlineData(DriverNames.Smmuv3)]
    [InlineData(DriverNames.Mock)]
    public void An_entry_that_translates_through_no_live_domains_table_is_caught(string driver)
    {
        // After the attach, dev0's entry (the CD's TTB0; the mock record's root) is pointed at a fresh, empty page.
        var report = Run(driver, 4, m =>
        {
            var allocator = Allocator(m);
            Assert.Equal(Errno.OK, allocator.Alloc(0, out var stray));
            var rootWord = m.HardwareOf("smmu0") is Smmuv3Hardware smmu
                ? (smmu.SteWord(0) & Smmuv3Ste.S1CtxPtrMask) + 8
                : Assert.IsType<Implementations.Hardware.Mock.MockHardware>(m.HardwareOf("mock0")).RecordTableBase + 8;
            allocator.Memory.Write(rootWord, driver == DriverNames.Mock ? stray : (allocator.Memory.Read(rootWord) & ~Smmuv3Cd.Ttb0Mask) | stray);
        }, ExecutorChecks.PageTables);
        AssertFails(report, 4, "page tables", "the entry of dev0 translates through table 0x");
    }

    [Fact]
    public void The_checks_are_steps_of_the_pipeline_selected_by_their_flags()
    {
        static string[] Names(ExecutorChecks checks) =>
            [.. new IommuBinding(checks).Start(TraceOn(DriverNames.Smmuv3), CheckMode.Incremental).Checks.Select(c => c.Name)];
        Assert.Equal(["expect", "fresh domain", "outcome", "state", "observations", "pasids", "page tables", "isolation", "pasid isolation", "teardown"], Names(ExecutorChecks.All));
        Assert.Equal(["expect", "state", "teardown"], Names(ExecutorChecks.Teardown));
        Assert.Equal(["expect", "state", "isolation", "pasid isolation"], Names(ExecutorChecks.Isolation));
        Assert.Equal(["expect", "state", "page tables"], Names(ExecutorChecks.PageTables));
        Assert.DoesNotContain("isolation", Names(ExecutorChecks.Outcomes | ExecutorChecks.Invariants | ExecutorChecks.Observations));
        Assert.True(ExecutorChecks.All.HasFlag(ExecutorChecks.Isolation | ExecutorChecks.PageTables));
    }
}

/// <summary>
/// A device a refused MUST_SUCCEED switch left on its old domain (docs/operations.md "Lagging devices and DMA") is held
/// to that domain's mappings: only a device on a domain freed under it is skipped.
/// </summary>
public class LaggingIsolationTests
{
    private const ulong MockBase = 0x100_0000;
    private const int DetachStep = 5;

    // m and a requireDirect rd share g0 on d1; detaching d1 moves m to the BLOCKED default, which rd refuses (it stays on d1).
    private static Trace Lagging()
    {
        var topology = new Topology([new IommuSpec("mock0", DriverNames.Mock, IommuOptions.None)],
            [new DeviceSpec("m", BusNames.Platform, "mock0", "g0"), new DeviceSpec("rd", BusNames.Platform, "mock0", "g0", RequireDirect: true)]);
        Operation[] ops =
        [
            new Probe("m"), new DomainAllocPaging("m", "d1"), new Map("d1", MockBase, 0x8000, 0x1000, "rw"), new AttachGroup("d1", "m"),
            new Probe("rd"), new DetachGroup("d1", "m"), new GetDomain("rd"), new GetDomain("m"),
        ];
        return new Trace("lagging isolation", [], SystemConfig.Default, topology, [.. ops.Select(o => new TraceStep(o))]);
    }

    [Fact]
    public void The_lagging_device_conforms_unperturbed()
    {
        var report = Executor.Run(Lagging(), PerturbedSystem.Sides(-1, null), ExecutorChecks.All);
        Assert.True(report.Conformant, report.Problem?.Message);
        Assert.Contains(Warn.SetDomainNoFailFailed, report.Steps[DetachStep].ImplOutcome!.Warnings);
    }

    [Fact]
    public void A_wrong_leaf_under_a_lagging_device_is_caught()
    {
        // After the refused switch, d1's first page is pointed elsewhere: only rd, lagging on d1, reaches it.
        static void Poke(IommuSystem m)
        {
            var d1 = m.PagingDomain(m.DomainOfHandle("d1")!.Id)!;
            Assert.Equal(0x800UL, d1.Unmap(MockBase, 0x800, out _));
            Assert.Equal(Errno.OK, d1.Map(MockBase, 0x5_0000, 0x800, Implementations.PageTable.IommuProt.Read | Implementations.PageTable.IommuProt.Write, out _));
        }
        var report = Executor.Run(Lagging(), PerturbedSystem.Sides(DetachStep, Poke), ExecutorChecks.Isolation);
        Assert.False(report.Conformant, "the lagging device was not checked");
        Assert.Equal(ProblemKind.Invariant, report.Problem!.Kind);
        Assert.Contains("rd", report.Problem.Message);
        Assert.Contains("0x50000", report.Problem.Message);
    }
}
