namespace IommuConformance.Implementations.Hardware;

/// <summary>The hardware errors of one machine (use-after-free of a domain by an entry), in the order they were detected.</summary>
public sealed class HardwareErrorLog
{
    private readonly Lock _lock = new();
    private readonly List<string> _errors = [];

    public void Add(string error)
    {
        lock (_lock) _errors.Add(error);
    }

    public IReadOnlyList<string> All
    {
        get { lock (_lock) return _errors.Count == 0 ? [] : [.. _errors]; }
    }
}
