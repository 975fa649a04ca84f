using System.Collections.Immutable;

namespace IommuConformance.Implementations.Core;

/// <summary>
/// The machine's kernel log of WARN_ON splats, by name. Every warning goes to the machine-wide log and to the
/// collector of the operation running on the calling thread, so each outcome carries its own warnings in order.
/// </summary>
public sealed class WarningLog
{
    private readonly Lock _lock = new();
    private readonly List<string> _all = [];
    private readonly ThreadLocal<List<string>?> _current = new();

    /// <summary>WARN_ON(): record the splat; the caller then takes the kernel's fallback path.</summary>
    public void Warn(string name)
    {
        lock (_lock) _all.Add(name);
        _current.Value?.Add(name);
    }

    /// <summary>Runs one operation and returns the warnings it raised on this thread.</summary>
    public (T Result, ImmutableArray<string> Warnings) Capture<T>(Func<T> operation)
    {
        var previous = _current.Value;
        var mine = new List<string>();
        _current.Value = mine;
        try
        {
            return (operation(), [.. mine]);
        }
        finally
        {
            _current.Value = previous;
        }
    }

    public ImmutableArray<string> All
    {
        get { lock (_lock) return [.. _all]; }
    }
}
