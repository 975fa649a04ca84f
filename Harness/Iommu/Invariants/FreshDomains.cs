using IommuConformance.Contract;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// c.22: -EINVAL from attaching a domain freshly allocated for a device to that same device is a conformance
/// failure, whatever the model says. Tracks, per handle, the device it was allocated for until its first successful
/// attach or its free. Only singleton groups count: <c>attach_device</c> on a multi-device group is EINVAL by the
/// core's own rule, and in <c>attach_group</c> another member may legitimately refuse.
/// </summary>
public sealed class FreshDomains
{
    private readonly Dictionary<string, string> _freshFor = new(StringComparer.Ordinal);

    /// <summary>Checks one step before it is recorded; <paramref name="before"/> is the state the step ran on.</summary>
    public string? Violation(Operation op, Outcome outcome, StateView before)
    {
        if (outcome.Errno != Errno.EINVAL) return null;
        var (domain, dev) = op switch
        {
            AttachDevice a => (a.Domain, a.Dev),
            AttachGroup a => (a.Domain, a.Dev),
            _ => (null, null),
        };
        if (domain is null || !_freshFor.TryGetValue(domain, out var allocatedFor) || allocatedFor != dev) return null;
        var group = before.Group(before.Device(dev)?.GroupId);
        if (group is null || group.Members.Length != 1) return null;
        return $"c.22: {op.Name} of \"{domain}\", freshly allocated for {dev} and never attached, to {dev} answered EINVAL";
    }

    /// <summary>Records what a step did to the handles (with the outcome the implementation answered).</summary>
    public void Record(Operation op, Outcome outcome)
    {
        if (outcome.Errno != Errno.OK) return;
        switch (op)
        {
            case DomainAllocPaging a: _freshFor[a.As] = a.Dev; break;
            case AttachDevice a: _freshFor.Remove(a.Domain); break;
            case AttachGroup a: _freshFor.Remove(a.Domain); break;
            case DomainFree f: _freshFor.Remove(f.Domain); break;
        }
    }
}
