using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Adapter;

/// <summary>
/// The trace's domain handles (<c>as</c> names), shaped like iommufd's object table: a name is live from its
/// allocation until its domain_free, then may be reused. Callers hold <see cref="SyncRoot"/> across a lookup
/// and the kernel call that uses it, as iommufd holds an object reference, so a handle cannot be destroyed
/// under an attach.
/// </summary>
public sealed class HandleTable
{
    private readonly Dictionary<string, IommuDomain> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<IommuDomain, string> _byDomain = new(ReferenceEqualityComparer.Instance);

    public object SyncRoot { get; } = new();

    public bool IsLive(string name) => _byName.ContainsKey(name);

    public IommuDomain? Find(string name) => _byName.GetValueOrDefault(name);

    public void Add(string name, IommuDomain domain)
    {
        _byName.Add(name, domain);
        _byDomain.Add(domain, name);
    }

    public void Remove(string name)
    {
        if (_byName.Remove(name, out var domain)) _byDomain.Remove(domain);
    }

    /// <summary>The handle naming <paramref name="domain"/>, or null for core-owned domains.</summary>
    public string? NameOf(IommuDomain domain)
    {
        lock (SyncRoot) return _byDomain.GetValueOrDefault(domain);
    }
}
