using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Adapter;

/// <summary>
/// The trace's domain handles (<c>as</c> names), shaped like iommufd's object table: a name is live from its
/// allocation until its domain_free, then may be reused. The table's lock guards its dictionaries only and is
/// never held across a kernel call: a caller that looked a handle up keeps it alive with a user count
/// (<see cref="Acquire"/> / <see cref="Release"/>), as iommufd holds an object reference, so a handle cannot be
/// destroyed under an attach.
/// </summary>
public sealed class HandleTable(TouchedSet? touched = null)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DomainHandle> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<IommuDomain, string> _byDomain = new(ReferenceEqualityComparer.Instance);

    public bool IsLive(string name)
    {
        lock (_lock) return _byName.ContainsKey(name);
    }

    /// <summary>Adds a new live handle; false when the name was taken meanwhile (the caller frees the domain).</summary>
    public bool TryAdd(string name, IommuDomain domain)
    {
        lock (_lock)
        {
            if (!_byName.TryAdd(name, new DomainHandle(name, domain))) return false;
            _byDomain.Add(domain, name);
            touched?.Domain(domain.Id);   // the domain's snapshot now carries the name
            return true;
        }
    }

    /// <summary>The live handle of that name with one more user, or null (never allocated, freed, or being freed).</summary>
    public DomainHandle? Acquire(string name)
    {
        lock (_lock)
        {
            if (!_byName.TryGetValue(name, out var handle) || handle.Dying) return null;
            handle.Users++;
            return handle;
        }
    }

    /// <summary>Drops the user <see cref="Acquire"/> added.</summary>
    public void Release(DomainHandle handle)
    {
        lock (_lock) handle.Users--;
    }

    /// <summary>
    /// First half of a destroy: the handle, marked dying so that no new user can acquire it, or null when there is
    /// no such live handle; <paramref name="busy"/> when someone still uses it (iommufd: -EBUSY).
    /// </summary>
    public DomainHandle? BeginRemove(string name, out bool busy)
    {
        lock (_lock)
        {
            busy = false;
            if (!_byName.TryGetValue(name, out var handle) || handle.Dying) return null;
            if (handle.Users > 0)
            {
                busy = true;
                return handle;
            }
            handle.Dying = true;
            return handle;
        }
    }

    /// <summary>Second half: forget the handle (<paramref name="remove"/>) or make it usable again.</summary>
    public void EndRemove(DomainHandle handle, bool remove)
    {
        lock (_lock)
        {
            handle.Dying = false;
            if (!remove) return;
            _byName.Remove(handle.Name);
            _byDomain.Remove(handle.Domain);
            touched?.Domain(handle.Domain.Id);
        }
    }

    /// <summary>Every live handle's name, in no particular order (the teardown audit frees them).</summary>
    public IReadOnlyList<string> LiveNames()
    {
        lock (_lock) return [.. _byName.Keys];
    }

    /// <summary>The handle naming <paramref name="domain"/>, or null for core-owned domains.</summary>
    public string? NameOf(IommuDomain domain)
    {
        lock (_lock) return _byDomain.GetValueOrDefault(domain);
    }
}
