using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Adapter;

/// <summary>
/// One live handle of the <see cref="HandleTable"/>: its name, its domain, and how many operations are using it
/// right now (iommufd's object refcount beyond the table's own). Counts change under the table's lock only.
/// </summary>
public sealed class DomainHandle(string name, IommuDomain domain)
{
    public string Name => name;

    public IommuDomain Domain => domain;

    /// <summary>Operations between <see cref="HandleTable.Acquire"/> and <see cref="HandleTable.Release"/>.</summary>
    public int Users { get; set; }

    /// <summary>A domain_free is deciding about it: no new user may take it.</summary>
    public bool Dying { get; set; }
}
