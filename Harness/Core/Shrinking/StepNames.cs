using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Shrinking;

/// <summary>
/// The handle names a step binds and uses, by argument kind (<see cref="ArgKind.Binder"/>,
/// <see cref="ArgKind.Handle"/>) and space, and a renaming of them: everything read from the operation table.
/// </summary>
public static class StepNames
{
    /// <summary>The (space, name) pairs the operation binds.</summary>
    public static IEnumerable<(string Space, string Name)> Bound(Operation op) => Names(op, ArgKind.Binder);

    /// <summary>The (space, name) pairs the operation uses as handles.</summary>
    public static IEnumerable<(string Space, string Name)> Used(Operation op)
    {
        var args = op.Spec.Args;
        var values = op.Values;
        for (var i = 0; i < args.Length; i++)
            if (args[i].IsNameUse(values[i])) yield return (args[i].Space, values[i].Text!);
    }

    /// <summary>Whether the operation binds or uses <paramref name="name"/> in <paramref name="space"/>.</summary>
    public static bool Mentions(Operation op, string space, string name)
    {
        var args = op.Spec.Args;
        var values = op.Values;
        for (var i = 0; i < args.Length; i++)
            if ((args[i].Kind == ArgKind.Binder || args[i].IsNameUse(values[i])) && args[i].Space == space && values[i].Text == name) return true;
        return false;
    }

    /// <summary>The names of a space that steps bind, each once, in order of first binding.</summary>
    public static IReadOnlyList<(string Space, string Name)> BindingOrder(IEnumerable<TraceStep> steps)
    {
        var seen = new HashSet<(string, string)>();
        var order = new List<(string, string)>();
        foreach (var step in steps)
            foreach (var bound in Bound(step.Op))
                if (seen.Add(bound)) order.Add(bound);
        return order;
    }

    /// <summary>The same operation with its binder and handle names mapped by (space, name) → name.</summary>
    public static Operation RenameHandles(Operation op, Func<string, string, string> map) =>
        op.Spec.Rebuild(op, (arg, value) => (arg.Kind == ArgKind.Binder || arg.IsNameUse(value)) && value.Text is { } text
            ? ArgValue.Of(map(arg.Space, text))
            : value);

    private static IEnumerable<(string Space, string Name)> Names(Operation op, ArgKind kind)
    {
        var args = op.Spec.Args;
        var values = op.Values;
        for (var i = 0; i < args.Length; i++)
            if (args[i].Kind == kind && values[i].Text is { } text) yield return (args[i].Space, text);
    }
}
