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

    public bool ShouldFail(string site)
    {
        if (!_inner.ShouldFail(site)) return false;
        log.Warn(Contract.Warn.FaultInjectionPrefix + site);
        return true;
    }
}
