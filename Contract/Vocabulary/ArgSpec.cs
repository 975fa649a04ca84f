using System.Collections.Immutable;

namespace IommuConformance.Contract.Vocabulary;

/// <summary>
/// One argument of an operation: its trace field name, its kind, and the kind's parameters. Defaults describe
/// a required, non-null argument; <see cref="Optional"/> arguments may be absent and then hold
/// <see cref="ArgValue.Null"/>; <see cref="Nullable"/> arguments must be present and take JSON <c>null</c> as a value.
/// </summary>
public sealed record ArgSpec(string Field, ArgKind Kind)
{
    /// <summary>
    /// For <see cref="ArgKind.Ref"/>, <see cref="ArgKind.Handle"/> and <see cref="ArgKind.Binder"/>: the namespace of
    /// names. For <see cref="ArgKind.Number"/>: when set, the value may also be a name an earlier binder of this space
    /// bound (an IOVA named by <c>dma_map</c>'s <c>as</c>), checked, renamed and repaired like a handle.
    /// </summary>
    public string Space { get; init; } = "";

    /// <summary>For <see cref="ArgKind.Choice"/>: the values, the first being the simplest (shrinking moves toward it).</summary>
    public ImmutableArray<string> Choices { get; init; } = [];

    /// <summary>For <see cref="ArgKind.Choice"/>: any string is accepted by the trace format (bad ones are the system's to refuse).</summary>
    public bool Open { get; init; }

    /// <summary>Present in every step, JSON <c>null</c> being one of its values (the NULL owner).</summary>
    public bool Nullable { get; init; }

    /// <summary>May be left out; absent reads as <see cref="ArgValue.Null"/> and is not written.</summary>
    public bool Optional { get; init; }

    /// <summary>For <see cref="ArgKind.Number"/>: values the generator prefers and the shrinker keeps are multiples of this.</summary>
    public ulong Align { get; init; } = 1;

    /// <summary>For <see cref="ArgKind.Number"/>: the smallest value the trace format accepts.</summary>
    public ulong Min { get; init; }

    /// <summary>For <see cref="ArgKind.Number"/>: the largest value the trace format accepts.</summary>
    public ulong Max { get; init; } = ulong.MaxValue;

    /// <summary>A handle use: a <see cref="ArgKind.Handle"/> value, or a name in a <see cref="ArgKind.Number"/> argument that admits names.</summary>
    public bool IsNameUse(ArgValue value) =>
        value.IsText && value.Text!.Length > 0 && (Kind == ArgKind.Handle || (Kind == ArgKind.Number && Space.Length > 0));

    /// <summary>Whether <paramref name="value"/> has this argument's shape (a string for names, a number, ...).</summary>
    public bool Admits(ArgValue value)
    {
        if (value.IsNull) return Optional || Nullable;
        return Kind switch
        {
            ArgKind.Number => (value.IsNumber && value.Number >= Min && value.Number <= Max) || IsNameUse(value),
            ArgKind.Flag => value.IsBool,
            ArgKind.Choice => value.IsText && (Open || Choices.Contains(value.Text!)),
            _ => value.IsText && value.Text!.Length > 0,
        };
    }
}
