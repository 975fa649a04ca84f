namespace IommuConformance.Implementations.Bugs;

/// <summary>
/// The seeded bugs switched on for one machine. Immutable after creation; checked with
/// <see cref="IsOn"/> at the exact line each bug perturbs.
/// </summary>
public sealed class BugSwitches
{
    private readonly HashSet<string> _on;

    public static readonly BugSwitches None = new([]);

    private BugSwitches(HashSet<string> on) => _on = on;

    /// <summary>Switches on the named bugs; an unknown name is an ArgumentException.</summary>
    public static BugSwitches Of(IEnumerable<string> names)
    {
        var on = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (BugCatalogue.Find(name) is null)
                throw new ArgumentException($"unknown seeded bug '{name}'", nameof(names));
            on.Add(name);
        }
        return new BugSwitches(on);
    }

    public bool IsOn(string name) => _on.Contains(name);

    public IEnumerable<string> Enabled => _on.Order(StringComparer.Ordinal);
}
