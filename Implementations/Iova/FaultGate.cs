namespace IommuConformance.Implementations.Iova;

/// <summary>
/// The fault-injection gate every fallible allocation asks before it allocates (failslab's should_failslab()).
/// A site is a stable name (<see cref="IovaFaultSites"/>); on <c>true</c> the caller behaves as the kernel does on
/// a NULL from the allocator. Defined here for now; the lead shares one gate across the implementation later.
/// </summary>
public interface IFaultGate
{
    /// <summary>True if the allocation at <paramref name="site"/> about to happen must fail.</summary>
    bool ShouldFail(string site);
}

/// <summary>The default gate: no allocation ever fails.</summary>
public sealed class NeverFailGate : IFaultGate
{
    public static readonly NeverFailGate Instance = new();

    private NeverFailGate() { }

    public bool ShouldFail(string site) => false;
}

/// <summary>
/// "The n-th allocation from now fails" (fail_nth): counts every allocation the gate is asked about, fails the
/// n-th one (1 = the next), then never again until re-armed. Records every site asked, for tests.
/// </summary>
public sealed class FailNthGate : IFaultGate
{
    private readonly List<string> _asked = [];
    private long _remaining;

    /// <summary>Arms the gate: the <paramref name="n"/>-th allocation from now fails (n ≥ 1; 0 disarms).</summary>
    public void Arm(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        _remaining = n;
    }

    /// <summary>Every site asked so far, in order (failed or not).</summary>
    public IReadOnlyList<string> Asked => _asked;

    /// <summary>The site whose allocation was failed, or null while none was.</summary>
    public string? FailedSite { get; private set; }

    public bool ShouldFail(string site)
    {
        _asked.Add(site);
        if (_remaining == 0 || --_remaining != 0) return false;
        FailedSite = site;
        return true;
    }
}
