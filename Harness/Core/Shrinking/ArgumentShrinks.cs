using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Shrinking;

/// <summary>
/// Simpler argument values, one argument of one step at a time, by kind (handle names are left to the lifecycle
/// and renaming shrinks): an optional argument left out; a <see cref="ArgKind.Ref"/> toward the first machine name of
/// its space the case uses (one object standing in for another, so the other's steps can go); a <see cref="ArgKind.Choice"/> toward its first choice; a
/// <see cref="ArgKind.Token"/> toward the first token of its space the case uses (a null token is a value of its
/// own, never simpler); a <see cref="ArgKind.Flag"/> toward false; a <see cref="ArgKind.Number"/> toward the
/// smallest admitted multiple of its alignment, keeping the alignment.
/// </summary>
public static class ArgumentShrinks
{
    public static IEnumerable<TCase> Simplify<TCase>(TCase c) where TCase : ICase<TCase>
    {
        var steps = c.Steps;
        var firstTokens = FirstTokens(steps);
        for (var i = 0; i < steps.Length; i++)
        {
            var op = steps[i].Op;
            var args = op.Spec.Args;
            var values = op.Values;
            for (var a = 0; a < args.Length; a++)
                foreach (var simpler in SimplerValues(args[a], values[a], firstTokens.GetValueOrDefault(args[a].Space)))
                {
                    var changed = values.SetItem(a, simpler);
                    yield return c.WithSteps(steps.SetItem(i, steps[i] with { Op = op.Spec.Build(changed) }));
                }
        }
    }

    /// <summary>Simpler values for one argument, simplest first; none when the value is as simple as it gets.</summary>
    /// <param name="firstToken">For a token or a machine name: the first non-null one of its space in the case.</param>
    public static IEnumerable<ArgValue> SimplerValues(ArgSpec arg, ArgValue value, string? firstToken = null)
    {
        if (value.IsNull) yield break;
        if (arg.Optional) yield return ArgValue.Null;
        switch (arg.Kind)
        {
            case ArgKind.Choice:
                var index = arg.Choices.IndexOf(value.Text!);
                for (var i = 0; i < (index < 0 ? arg.Choices.Length : index); i++) yield return ArgValue.Of(arg.Choices[i]);
                break;
            case ArgKind.Token or ArgKind.Ref when firstToken is not null && firstToken != value.Text:
                yield return ArgValue.Of(firstToken);
                break;
            case ArgKind.Flag when value.Bool:
                yield return ArgValue.Of(false);
                break;
            case ArgKind.Number when value.IsNumber:
                foreach (var n in SmallerNumbers(arg, value.Number)) yield return ArgValue.Of(n);
                break;
        }
    }

    /// <summary>
    /// Smaller admitted values for a number, best first: the smallest admitted multiple of <see cref="ArgSpec.Align"/>
    /// (<see cref="ArgSpec.Min"/> rounded up to it), then values halving the distance to it, each a multiple of the
    /// alignment. An unaligned value gets the aligned candidates first, then ones with its own misalignment.
    /// </summary>
    public static IEnumerable<ulong> SmallerNumbers(ArgSpec arg, ulong value)
    {
        var align = Math.Max(arg.Align, 1UL);
        var seen = new HashSet<ulong>();
        var remainder = value % align;
        foreach (var n in Toward(arg, align, 0, value - remainder))
            if (n < value && seen.Add(n)) yield return n;
        if (remainder != 0)
            foreach (var n in Toward(arg, align, remainder, value))
                if (n < value && seen.Add(n)) yield return n;
    }

    /// <summary>Values ≡ <paramref name="remainder"/> mod <paramref name="align"/>, from the smallest admitted one up toward <paramref name="from"/>.</summary>
    private static IEnumerable<ulong> Toward(ArgSpec arg, ulong align, ulong remainder, ulong from)
    {
        if (Lowest(arg.Min, align, remainder) is not { } floor || floor > arg.Max || floor > from) yield break;
        yield return floor;
        var distance = from - floor;
        for (var cut = distance / 2; cut >= align; cut /= 2)
        {
            var n = from - (cut - cut % align);
            if (n <= arg.Max && n >= arg.Min) yield return n;
        }
        if (from <= arg.Max && from >= arg.Min) yield return from;
    }

    /// <summary>The smallest value ≥ <paramref name="min"/> that is ≡ <paramref name="remainder"/> mod <paramref name="align"/>, or null on overflow.</summary>
    private static ulong? Lowest(ulong min, ulong align, ulong remainder)
    {
        var below = min - min % align;
        var candidate = below + remainder;
        if (candidate < below) return null;
        if (candidate >= min) return candidate;
        var next = candidate + align;
        return next < candidate ? null : next;
    }

    private static Dictionary<string, string> FirstTokens(IEnumerable<TraceStep> steps)
    {
        var first = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            var args = step.Op.Spec.Args;
            var values = step.Op.Values;
            for (var a = 0; a < args.Length; a++)
                if (args[a].Kind is ArgKind.Token or ArgKind.Ref && values[a].Text is { } token) first.TryAdd(args[a].Space, token);
        }
        return first;
    }
}
