using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Model.State;

namespace IommuConformance.Model;

/// <summary>Read-only queries for generators, printers and the harness's incremental checks; none walks every group.</summary>
public sealed partial class ModelState
{
    public bool IsProbed(string dev) => GroupFor(dev) is not null;

    public bool IsBound(string dev) => bound.Contains(dev);

    /// <summary>An opaque, stable name of the device's group (e.g. "smmu0/g0"), or null when not probed.</summary>
    public string? GroupOf(string dev) => GroupFor(dev)?.Id;

    /// <summary>The members of the device's group in probe order; empty when not probed.</summary>
    public IReadOnlyList<string> GroupMembers(string dev) => GroupFor(dev)?.Members ?? [];

    public string? Owner(string dev) => GroupFor(dev)?.Owner;

    public int OwnerCount(string dev) => GroupFor(dev)?.OwnerCount ?? 0;

    /// <summary>What get_domain answers (always OK).</summary>
    public string CurrentDomain(string dev) => DomainName(GroupFor(dev)?.Current);

    /// <summary>What group_type_read answers when OK (the sysfs string); null when the device has no group (ENODEV).</summary>
    public string? GroupType(string dev) => GroupFor(dev) is { } g ? DefaultKinds.SysfsName(g.Default) : null;

    /// <summary><see cref="CurrentDomain"/> and <see cref="GroupType"/> at once (one group lookup: the per-step observations ask both).</summary>
    public (string Domain, string? Type) Answers(string dev) =>
        GroupFor(dev) is { } g ? (DomainName(g.Current), DefaultKinds.SysfsName(g.Default)) : (DomainName(null), null);

    /// <summary>
    /// What the device's hardware is on (<see cref="HardwareDomain"/>): its group's current domain, unless a refused
    /// MUST_SUCCEED switch or revert left it behind; null when the device is not probed.
    /// </summary>
    public HardwareDomain? HardwareDomainOf(string dev) => GroupFor(dev) is { } g ? HardwareOf(g, dev) : null;


    /// <summary>The members of the device's group whose hardware is not on the group's domain (<see cref="GroupState.Lagging"/>).</summary>
    public IEnumerable<string> LaggingMembers(string dev) => GroupFor(dev)?.Lagging.Keys ?? [];

    /// <summary>The devices of the groups whose current domain is the user domain <paramref name="handle"/> (walks the groups).</summary>
    public IEnumerable<string> DevicesOn(string handle)
    {
        foreach (var g in groups.Values)
            if (g.Current is { Role: DomainRole.User } c && c.Handle == handle)
                foreach (var m in g.Members) yield return m;
    }

    /// <summary>The user-domain handle the device's group is attached to now, or null (default, blocking, none).</summary>
    public string? UserDomainOf(string dev) => GroupFor(dev)?.Current is { Role: DomainRole.User } c ? c.Handle : null;

    /// <summary>Live user-domain handles, in allocation order.</summary>
    public IReadOnlyList<string> LiveDomains => [.. domains.Values.OrderBy(d => d.Seq).Select(d => d.Handle)];

    /// <summary>The device a live handle was allocated for, or null.</summary>
    public string? DomainDevice(string handle) => domains.GetValueOrDefault(handle)?.Device;

    /// <summary>True when the live handle is some group's current domain.</summary>
    public bool IsAttached(string handle) =>
        domains.ContainsKey(handle) && (groups.Values.Any(g => g.Current == DomainRef.User(handle)) || IsPasidAttached(handle));

    /// <summary>The live groups, keyed by their <see cref="GroupOf"/> name (for invariant checks and printers).</summary>
    public IReadOnlyDictionary<string, GroupState> Groups => groups;

    /// <summary>
    /// True when <paramref name="other"/> has this state's very groups and bound drivers (the same instances: a step
    /// that touches neither, such as a map or a DMA, keeps them). Cheap; false says nothing (they may still be equal).
    /// </summary>
    public bool SameGroupsAndDrivers(ModelState other) =>
        ReferenceEquals(groups, other.groups) && ReferenceEquals(bound, other.bound);

    /// <summary>
    /// The devices whose <c>get_domain</c> or <c>group_type_read</c> answer, or whose bound status, may differ from
    /// <paramref name="before"/>: the old and new members of every group added, removed or replaced (compared by
    /// reference: a step that leaves a group alone keeps its instance), and every device bound or unbound. Cheap:
    /// nothing when the state is the same instance (every failed step), no deep comparison otherwise. Each device
    /// once, groups in key order.
    /// </summary>
    public IEnumerable<string> DevicesChangedSince(ModelState before)
    {
        if (ReferenceEquals(this, before)) return [];
        List<string>? changed = null;
        HashSet<string>? seen = null;
        void Add(string dev)
        {
            seen ??= new HashSet<string>(StringComparer.Ordinal);
            if (seen.Add(dev)) (changed ??= []).Add(dev);
        }
        void AddAll(ImmutableList<string> devices)
        {
            for (var i = 0; i < devices.Count; i++) Add(devices[i]);
        }

        if (!ReferenceEquals(groups, before.groups))
        {
            foreach (var (id, g) in groups)
            {
                if (before.groups.TryGetValue(id, out var old))
                {
                    if (ReferenceEquals(old, g)) continue;
                    AddAll(old.Members);
                }
                AddAll(g.Members);
            }
            foreach (var (id, old) in before.groups)
                if (!groups.ContainsKey(id)) AddAll(old.Members);
        }
        if (!ReferenceEquals(bound, before.bound))
        {
            foreach (var dev in bound) if (!before.bound.Contains(dev)) Add(dev);
            foreach (var dev in before.bound) if (!bound.Contains(dev)) Add(dev);
        }
        return (IEnumerable<string>?)changed ?? [];
    }
}
