using System.Collections.Immutable;

namespace IommuConformance.Contract.Vocabulary;

/// <summary>How an operation's answer value is spelled in a trace's <c>expect.value</c>.</summary>
public enum ValueKind
{
    /// <summary>A JSON string, kept as is (a domain name, a sysfs string).</summary>
    Text,

    /// <summary>
    /// An unsigned integer: a JSON number or a <c>0x</c> hex string in a trace; canonically <c>0x…</c> lower-case hex in
    /// <see cref="Outcome.Value"/> (<see cref="ValueText.Number"/>): bytes unmapped, a physical address.
    /// </summary>
    Number,

    /// <summary>
    /// A JSON object with exactly one field of <see cref="ValueSpec.Fields"/>, holding a number (number or <c>0x</c>
    /// string) or a string: <c>{ "phys": 4096 }</c>, <c>{ "fault": "translation" }</c>. Canonically
    /// <c>field=value</c> in <see cref="Outcome.Value"/> (<see cref="ValueText.Field(string, ulong)"/>).
    /// </summary>
    Tagged,
}

/// <summary>The shape of an operation's value (the default is <see cref="ValueKind.Text"/>).</summary>
public sealed record ValueSpec(ValueKind Kind, ImmutableArray<string> Fields)
{
    public static readonly ValueSpec Text = new(ValueKind.Text, []);

    public static readonly ValueSpec Number = new(ValueKind.Number, []);

    public static ValueSpec Tagged(params string[] fields) => new(ValueKind.Tagged, [.. fields]);

    public bool Equals(ValueSpec? other) => other is not null && Kind == other.Kind && Fields.SequenceEqual(other.Fields);

    public override int GetHashCode() => HashCode.Combine(Kind, Fields.Length);
}
