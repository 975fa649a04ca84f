namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// The objects one check looks at: what the step touched, widened to the objects whose invariants depend on them
/// (a touched device's groups, a touched group's members and domains, a touched domain's holders). A sweep's
/// scope is everything.
/// </summary>
public sealed class Scope
{
    public HashSet<string> Devices { get; } = new(StringComparer.Ordinal);
    public HashSet<int> Groups { get; } = [];
    public HashSet<int> Domains { get; } = [];

    /// <summary>Every object of the view.</summary>
    public static Scope All(StateView view)
    {
        var scope = new Scope();
        scope.Devices.UnionWith(view.DeviceNames);
        foreach (var g in view.Groups) scope.Groups.Add(g.Id);
        foreach (var d in view.Domains) scope.Domains.Add(d.Id);
        return scope;
    }

    public void Clear()
    {
        Devices.Clear();
        Groups.Clear();
        Domains.Clear();
    }

    /// <summary>Adds the dependants of what is in the scope, as the view holds them now.</summary>
    public void Widen(StateView view)
    {
        foreach (var name in Devices)
            if (view.Device(name)?.GroupId is { } g) Groups.Add(g);
        foreach (var id in Domains)
            Groups.UnionWith(view.HoldersOf(id));
        foreach (var id in Groups)
        {
            if (view.Group(id) is not { } g) continue;
            Devices.UnionWith(g.Members);
            Domains.UnionWith(StateView.Held(g));
        }
        foreach (var name in Devices)
            if (view.Device(name)?.Context.DomainId is { } d) Domains.Add(d);
    }
}
