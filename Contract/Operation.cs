using System.Collections.Immutable;
using IommuConformance.Contract.Vocabulary;

namespace IommuConformance.Contract;

/// <summary>
/// One step of a trace: an operation of the contract's vocabulary (spec §4). Each record carries its entry of
/// <see cref="Operations.All"/>, from which the harness derives everything it does with operations.
/// </summary>
public abstract record Operation
{
    /// <summary>This operation's entry of the operation table.</summary>
    public abstract OpSpec Spec { get; }

    /// <summary>The trace name of the operation, e.g. <c>attach_device</c>.</summary>
    public string Name => Spec.Name;

    /// <summary>The argument values, in the entry's canonical order.</summary>
    public ImmutableArray<ArgValue> Values => Spec.Values(this);

    /// <summary>Sealed so that every operation prints as in traces: <c>attach_device {domain: d1, dev: dev0}</c>.</summary>
    public sealed override string ToString()
    {
        var values = Values;
        var parts = new List<string>(values.Length);
        for (var i = 0; i < values.Length; i++)
            if (!(values[i].IsNull && Spec.Args[i].Optional))
                parts.Add($"{Spec.Args[i].Field}: {values[i]}");
        return $"{Name} {{{string.Join(", ", parts)}}}";
    }
}
