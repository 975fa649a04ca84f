using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;

namespace IommuConformance.Harness.Core.Generation;

/// <summary>
/// The names a case's binders (<see cref="ArgKind.Binder"/>) have bound, per space, in order of first binding,
/// whatever the steps answered (the trace format lets a handle name any earlier binding: stale names are how
/// use-after-free and double free are written), and fresh names: a space's prefix and a counter, skipping names
/// bound already and reserved ones.
/// </summary>
public sealed class NameBook
{
    private readonly IReadOnlyDictionary<string, string> _prefixes;
    private readonly IReadOnlyDictionary<string, IReadOnlySet<string>> _reserved;
    private readonly Dictionary<string, Space> _spaces = new(StringComparer.Ordinal);

    /// <param name="prefixes">The prefix of fresh names, by space (a space without one uses its own name).</param>
    /// <param name="reserved">Names no binder may bind, by space.</param>
    public NameBook(IReadOnlyDictionary<string, string> prefixes, IReadOnlyDictionary<string, IReadOnlySet<string>>? reserved = null)
    {
        _prefixes = prefixes;
        _reserved = reserved ?? new Dictionary<string, IReadOnlySet<string>>();
    }

    private sealed class Space
    {
        public readonly List<string> Order = [];
        public readonly HashSet<string> Set = new(StringComparer.Ordinal);
        public int Counter;
    }

    private Space Of(string space)
    {
        if (!_spaces.TryGetValue(space, out var s)) _spaces[space] = s = new Space();
        return s;
    }

    /// <summary>Every name bound in <paramref name="space"/>, in order of first binding.</summary>
    public IReadOnlyList<string> Bound(string space) => _spaces.TryGetValue(space, out var s) ? s.Order : [];

    /// <summary>Whether <paramref name="name"/> has been bound in <paramref name="space"/>.</summary>
    public bool IsBound(string space, string name) => _spaces.TryGetValue(space, out var s) && s.Set.Contains(name);

    /// <summary>A name never bound in <paramref name="space"/> and not reserved: prefix1, prefix2, ...</summary>
    public string Fresh(string space)
    {
        var s = Of(space);
        var prefix = _prefixes.TryGetValue(space, out var p) ? p : space;
        _reserved.TryGetValue(space, out var reserved);
        while (true)
        {
            var name = prefix + (++s.Counter).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!s.Set.Contains(name) && reserved?.Contains(name) != true) return name;
        }
    }

    /// <summary>Records the names <paramref name="op"/>'s binders bind.</summary>
    public void Record(Operation op)
    {
        var args = op.Spec.Args;
        System.Collections.Immutable.ImmutableArray<ArgValue> values = default;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].Kind != ArgKind.Binder) continue;
            if (values.IsDefault) values = op.Values;
            var value = values[i];
            if (value.Text is { } name)
            {
                var s = Of(args[i].Space);
                if (s.Set.Add(name)) s.Order.Add(name);
            }
        }
    }
}
