using System.Globalization;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Shrinking;

/// <summary>
/// Shrinks of the names steps bind: delete one handle's whole lifecycle (the steps binding it and every step using
/// it), and give every handle a canonical spelling.
/// </summary>
public static class HandleShrinks
{
    /// <summary>For each bound handle, in order of first binding: the case without every step that binds or uses it.</summary>
    public static IEnumerable<TCase> DeleteLifecycles<TCase>(TCase c) where TCase : ICase<TCase>
    {
        foreach (var (space, name) in StepNames.BindingOrder(c.Steps))
            yield return c.WithSteps(c.Steps.Where(s => !StepNames.Mentions(s.Op, space, name)));
    }

    /// <summary>
    /// For each pair of handles of one space (A bound before B): the case where B is never bound and every use of B
    /// uses A instead. Two objects playing the same part collapse into one, which lets the lifecycle and chunk
    /// deletions remove what only the second needed.
    /// </summary>
    public static IEnumerable<TCase> MergeHandles<TCase>(TCase c) where TCase : ICase<TCase>
    {
        var order = StepNames.BindingOrder(c.Steps);
        for (var j = order.Count - 1; j > 0; j--)
            for (var i = 0; i < j; i++)
            {
                var (space, keep) = order[i];
                var (otherSpace, drop) = order[j];
                if (space != otherSpace) continue;
                yield return c.WithSteps(c.Steps
                    .Where(s => !StepNames.Bound(s.Op).Contains((space, drop)))
                    .Select(s => s with { Op = StepNames.RenameHandles(s.Op, (sp, n) => sp == space && n == drop ? keep : n) }));
            }
    }

    /// <summary>The default canonical spelling: the first letter of the space and the ordinal from 1 (<c>domain</c>: d1, d2, ...).</summary>
    public static string DefaultSpelling(string space, int ordinal) =>
        (space.Length > 0 ? space[..1] : "h") + ordinal.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The canonical renaming of a step list's handles: in each space, names in order of first binding become
    /// <paramref name="spelling"/>(space, 1), (space, 2), ... Names no step binds are left alone. Null when the
    /// names are canonical already.
    /// </summary>
    public static Func<string, string, string>? CanonicalMap(IEnumerable<TraceStep> steps, Func<string, int, string>? spelling = null)
    {
        spelling ??= DefaultSpelling;
        var map = new Dictionary<(string, string), string>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (space, name) in StepNames.BindingOrder(steps))
        {
            var ordinal = counts[space] = counts.GetValueOrDefault(space) + 1;
            map[(space, name)] = spelling(space, ordinal);
        }
        if (map.All(p => p.Key.Item2 == p.Value)) return null;
        // Each name is mapped from its old spelling alone, so a swap (d2 <-> d1) needs no temporary name.
        return (space, name) => map.GetValueOrDefault((space, name), name);
    }

    /// <summary>The case with canonical handle names (itself when they are canonical already).</summary>
    public static TCase Canonical<TCase>(TCase c, Func<string, int, string>? spelling = null) where TCase : ICase<TCase> =>
        CanonicalMap(c.Steps, spelling) is { } map
            ? c.WithSteps(c.Steps.Select(s => s with { Op = StepNames.RenameHandles(s.Op, map) }))
            : c;
}
