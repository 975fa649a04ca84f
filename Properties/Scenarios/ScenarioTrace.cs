using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Iommu.Traces;

namespace IommuConformance.Properties.Scenarios;

/// <summary>One emulated driver a scenario runs on, with the answers of its page-table rules (docs/operations.md).</summary>
public sealed record ScenarioDriver(string Name, IommuSpec Iommu, Errno OvermapErrno, string[] OvermapWarnings, bool PartialUnmapRemovesLeaf)
{
    public static readonly ScenarioDriver Smmuv3 = new(DriverNames.Smmuv3, new IommuSpec("smmu0", DriverNames.Smmuv3, IommuOptions.None),
        Errno.EEXIST, [Warn.ArmLpaeMapExists], PartialUnmapRemovesLeaf: false);

    public static readonly ScenarioDriver Vtd = new(DriverNames.Vtd, new IommuSpec("vtd0", DriverNames.Vtd, IommuOptions.None),
        Errno.EADDRINUSE, [], PartialUnmapRemovesLeaf: true);

    public static ScenarioDriver Of(string name) => name == DriverNames.Vtd ? Vtd : Smmuv3;

    public override string ToString() => Name;
}

/// <summary>
/// A scenario written as contract operations with the outcome each must have: one device (dev0) behind one IOMMU,
/// probed, with a paging domain d1 attached. <see cref="ToTrace"/> makes it a trace for the harness executor (model
/// and implementation compared at every step, every expect checked against the model); <see cref="ScenarioRun.Lockstep"/>
/// runs the same steps with the global checks G1 and G3.
/// </summary>
public sealed class ScenarioTrace
{
    public const string Dev = "dev0", Domain = "d1";

    private readonly List<TraceStep> _steps = [];

    public ScenarioTrace(string title, ScenarioDriver driver)
    {
        Title = title;
        Driver = driver;
        Topology = new Topology([driver.Iommu], [new DeviceSpec(Dev, BusNames.Pci, driver.Iommu.Name, "g0")]);
        Do(new Probe(Dev)).Do(new DomainAllocPaging(Dev, Domain)).Do(new AttachDevice(Domain, Dev));
    }

    public string Title { get; }
    public ScenarioDriver Driver { get; }
    public Topology Topology { get; }
    public SystemConfig Config { get; } = SystemConfig.Default;
    public IReadOnlyList<TraceStep> Steps => _steps;

    /// <summary>Index of the probe step: the live-frame baseline (before d1 was allocated) is taken after it.</summary>
    public const int BaselineStep = 0;

    /// <summary>A step whose model outcome must be exactly this (errno, value when given, warnings always).</summary>
    public ScenarioTrace Do(Operation op, Errno errno = Errno.OK, string? value = null, params string[] warnings)
    {
        _steps.Add(new TraceStep(op, new Expect(errno, value, [.. warnings])));
        return this;
    }

    public ScenarioTrace Map(ulong iova, ulong paddr, ulong size, string prot = "rw") => Do(new Map(Domain, iova, paddr, size, prot));

    public ScenarioTrace Overmap(ulong iova, ulong paddr, ulong size, string prot = "r") =>
        Do(new Map(Domain, iova, paddr, size, prot), Driver.OvermapErrno, null, Driver.OvermapWarnings);

    public ScenarioTrace Unmap(ulong iova, ulong size, ulong answered, params string[] warnings) =>
        Do(new Unmap(Domain, iova, size), Errno.OK, OutcomeValues.Number(answered), warnings);

    public ScenarioTrace Phys(ulong iova, ulong phys) => Do(new IovaToPhys(Domain, iova), Errno.OK, OutcomeValues.Number(phys));

    public ScenarioTrace Dma(ulong iova, ulong phys, bool write = false, ulong size = 4) =>
        Do(new DeviceDma(Dev, iova, size, write), Errno.OK, DmaValues.Phys(phys));

    public ScenarioTrace DmaFaults(ulong iova, string reason = Contract.DmaFaults.Translation, bool write = false, ulong size = 4) =>
        Do(new DeviceDma(Dev, iova, size, write), Errno.EIO, DmaValues.Fault(reason));

    /// <summary>Detach and free d1: table pages must then be back to the baseline (G3).</summary>
    public ScenarioTrace Teardown() => Do(new DetachDevice(Domain, Dev)).Do(new DomainFree(Domain));

    public Trace ToTrace(params string[] bugs) => new(Title, [.. bugs], Config, Topology, [.. _steps]);
}
