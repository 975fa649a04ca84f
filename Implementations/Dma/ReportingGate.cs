using IommuConformance.Implementations.Core;
using IommuConformance.Implementations.Iova;

namespace IommuConformance.Implementations.Dma;

/// <summary>
/// The machine's one fault gate: <c>fail_nth</c> (<see cref="FailNthGate"/>) with failslab's log line — an injected
/// failure writes <c>fault_injection_SITE</c> to the kernel log of the operation that met it.
/// </summary>
public sealed class ReportingGate(WarningLog log) : IFaultGate
{
    private readonly FailNthGate _inner = new();

    /// <summary>fail_nth: the <paramref name="n"/>-th allocation from now fails (0 disarms).</summary>
    public void Arm(long n) => _inner.Arm(n);

    /// <summary>Allocations asked about since the machine was made.</summary>
    public int Asked => _inner.Asked.Count;

    /// <summary>
    /// The device whose DMA set-up (iommu_dma_init_domain) is running, or null: the IOVA allocator's and the flush
    /// queue's sites asked meanwhile name it (ours, docs/dma.md: in a bus probe the model must know which device met it).
    /// </summary>
    public string? SetupDevice { get; set; }

    public bool ShouldFail(string site)
    {
        var key = SetupDevice is { } dev && !site.Contains('@', StringComparison.Ordinal) ? Contract.Warn.FaultSites.Key(site, dev) : site;
        if (!_inner.ShouldFail(key)) return false;
        log.Warn(Contract.Warn.FaultInjectionPrefix + key);
        return true;
    }
}
