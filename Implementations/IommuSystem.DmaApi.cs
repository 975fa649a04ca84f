using IommuConformance.Contract;
using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Dma;
using IommuConformance.Implementations.PageTable;
using static IommuConformance.Contract.Errno;

namespace IommuConformance.Implementations;

/// <summary>
/// The adapter's handlers of the DMA API (<c>dma_map</c>, <c>dma_unmap</c>), the clock (<c>tick</c>) and fault
/// injection (<c>fail_nth</c>). The driver calling the DMA API runs with dma-debug: each mapping is remembered by
/// (device, DMA address), and an unmap that matches none, or another size or direction, is refused with dma-debug's
/// warning before dma-iommu sees it (docs/dma.md). IOVA names bound by <c>as</c> live in <see cref="_iovaNames"/>.
/// </summary>
public sealed partial class IommuSystem
{
    private readonly Dictionary<string, ulong> _iovaNames = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Dev, ulong Addr), (ulong Size, string Dir, int DomainId)> _dmaDebug = [];

    /// <summary>The DMA layer (tests, invariants, benchmarks).</summary>
    public IommuDma Dma => _core.Dma;

    private ReportingGate? _gate;

    private Outcome DmaApi(Operation op) => op switch
    {
        Contract.DmaMap m => DmaMap(m),
        Contract.DmaUnmap u => DmaUnmap(u),
        Tick t => Outcome.Of(_core.Dma.Tick((long)Math.Min(t.Ms, long.MaxValue))),
        Contract.FailNth f => FailNth(f),
        _ => throw new NotSupportedException($"the implementation has no handler for operation '{op.Name}' ({op.GetType().Name})"),
    };

    private Outcome DmaMap(Contract.DmaMap op) => WithDevice(op.Dev, dev =>
    {
        if (op.Cpu >= (ulong)_core.Dma.Cpus) return Outcome.Of(EINVAL);
        if (op.As is not null && _iovaNames.ContainsKey(op.As)) return Outcome.Of(EEXIST);
        if (IommuProtNames.TryParse(DmaDirections.Prot(op.Dir), out var prot) != OK) return Outcome.Of(EINVAL);
        Touched.Device(dev.Name);
        if (dev.Group?.DefaultDomain is { } def) Touched.Domain(def.Id);
        var addr = _core.Dma.MapPage(dev, op.Paddr, op.Size, prot, (int)op.Cpu, DmaArgs.MaskOf(op.Mask));
        if (addr != IommuDma.DmaMappingError)
        {
            if (op.As is not null) _iovaNames[op.As] = addr;
            _dmaDebug[(dev.Name, addr)] = (op.Size, op.Dir, DmaDomainId(dev));
        }
        return Outcome.OkWith(OutcomeValues.Number(addr));
    });

    private Outcome DmaUnmap(Contract.DmaUnmap op) => WithDevice(op.Dev, dev =>
    {
        if (op.Cpu >= (ulong)_core.Dma.Cpus) return Outcome.Of(EINVAL);
        ulong addr;
        if (op.IovaName is null) addr = op.Iova;
        else if (!_iovaNames.TryGetValue(op.IovaName, out addr)) return Outcome.Of(ENOENT);
        // dma-debug check_unmap(): an unknown address, or another size or direction, or a mapping of a domain gone since.
        if (!_dmaDebug.TryGetValue((dev.Name, addr), out var entry) || entry.Size != op.Size || entry.Dir != op.Dir
            || entry.DomainId != DmaDomainId(dev))
        {
            _core.Warnings.Warn(Contract.Warn.DmaDebugBadUnmap);
            return Outcome.Ok;
        }
        _dmaDebug.Remove((dev.Name, addr));
        Touched.Device(dev.Name);
        if (dev.Group?.DefaultDomain is { } def) Touched.Domain(def.Id);
        _core.Dma.UnmapPage(dev, addr, op.Size, (int)op.Cpu);
        return Outcome.Ok;
    });

    private Outcome FailNth(Contract.FailNth op)
    {
        _gate!.Arm((long)Math.Min(op.N, int.MaxValue));
        return Outcome.Ok;
    }

    // The domain the device's DMA API maps into: its group's default domain while it has iommu DMA ops, else 0 (dma-direct).
    private static int DmaDomainId(Device dev) =>
        dev.Iommu is { DmaIommu: true } && dev.Group?.DefaultDomain is { } def ? def.Id : 0;

    private void WireDma(SystemConfig config)
    {
        _gate = new ReportingGate(_core.Warnings);
        _core.Dma = new IommuDma(config.Cpus, _gate, _core.Bugs, _core.Warnings);
        _platform.Allocator.TableGate = _gate;
    }
}
