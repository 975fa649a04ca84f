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
    public static Scope All(StateView view) => new Scope().SetAll(view);

    /// <summary>This scope, refilled with every object of the view.</summary>
    public Scope SetAll(StateView view)
    {
        Clear();
        foreach (var d in view.DeviceNames) Devices.Add(d);
        foreach (var g in view.Groups) Groups.Add(g.Id);
        foreach (var d in view.Domains) Domains.Add(d.Id);
        return this;
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
            view.AddHoldersOf(id, Groups);
        foreach (var id in Groups)
        {
            if (view.Group(id) is not { } g) continue;
            foreach (var m in g.Members) Devices.Add(m);
            StateView.AddHeld(Domains, g);
        }
        foreach (var name in Devices)
            if (view.Device(name)?.Context.DomainId is { } d) Domains.Add(d);
    }
}
