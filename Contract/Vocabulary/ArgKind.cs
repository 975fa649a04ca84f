namespace IommuConformance.Contract.Vocabulary;

/// <summary>
/// What an operation argument holds. The kind alone decides how the argument is read and written in a trace,
/// validated, generated, shrunk and renamed; no operation needs code of its own for any of these.
/// </summary>
public enum ArgKind
{
    /// <summary>A name of the fixed machine, in the namespace <see cref="ArgSpec.Space"/> (a device, a bus).</summary>
    Ref,

    /// <summary>A name bound by an earlier step's <see cref="Binder"/> of the same space; it may be stale (freed).</summary>
    Handle,

    /// <summary>Binds a new name in <see cref="ArgSpec.Space"/> (the trace's <c>as</c>).</summary>
    Binder,

    /// <summary>One of <see cref="ArgSpec.Choices"/>; when <see cref="ArgSpec.Open"/>, any string (the system answers bad ones).</summary>
    Choice,

    /// <summary>An opaque string token compared by equality (an owner cookie).</summary>
    Token,

    /// <summary>
    /// An unsigned integer (a JSON number or a <c>0x</c> hex string) with an alignment and a range: addresses,
    /// sizes, counts, milliseconds. Shrinks toward small aligned values.
    /// </summary>
    Number,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Flag,
}
