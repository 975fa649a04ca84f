using IommuConformance.Contract;
using IommuConformance.Implementations.Core;

namespace IommuConformance.Implementations.Adapter;

/// <summary>How get_domain names group->domain (spec §4): a handle, or the role it plays for the group.</summary>
public static class DomainNaming
{
    /// <summary>"default" wins over "blocking" and "identity" when one domain plays several roles.</summary>
    public static string Name(GroupDomains domains, HandleTable handles)
    {
        if (domains.Domain is not { } domain) return DomainNames.None;
        if (domain == domains.Default) return DomainNames.Default;
        if (handles.NameOf(domain) is { } handle) return handle;
        if (domain == domains.Blocking) return DomainNames.Blocking;
        if (domain.IsStatic && domain.Type == DomainType.Identity) return DomainNames.Identity;
        // Unreachable in this slice (every other domain is a handle); show it as nothing named.
        return DomainNames.None;
    }
}
