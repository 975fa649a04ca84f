using System.Collections.Immutable;

namespace IommuConformance.Contract.Vocabulary;

/// <summary>
/// One entry of an operation table: the trace name, the arguments in canonical order, and the two functions that
/// turn argument values into the operation record and back. Everything else (parsing, validation, printing, JSON,
/// generation, shrinking, renaming) is derived from this entry by the harness.
/// </summary>
public abstract class OpSpec
{
    protected OpSpec(string name, ImmutableArray<ArgSpec> args)
    {
        Name = name;
        Args = args;
    }

    /// <summary>The trace name, e.g. <c>attach_device</c>.</summary>
    public string Name { get; }

    /// <summary>The arguments in canonical order (the order they are written in).</summary>
    public ImmutableArray<ArgSpec> Args { get; }

    /// <summary>How the operation's answer value is spelled in traces (default: a string).</summary>
    public ValueSpec Value { get; init; } = ValueSpec.Text;

    /// <summary>The record type this entry builds.</summary>
    public abstract Type RecordType { get; }

    /// <summary>Builds the operation from values in <see cref="Args"/> order; each value must be admitted by its argument.</summary>
    public abstract Operation Build(IReadOnlyList<ArgValue> values);

    /// <summary>The values of <paramref name="op"/>'s arguments, in <see cref="Args"/> order.</summary>
    public abstract ImmutableArray<ArgValue> Values(Operation op);

    /// <summary>The index of the argument named <paramref name="field"/>, or -1.</summary>
    public int IndexOf(string field)
    {
        for (var i = 0; i < Args.Length; i++)
            if (Args[i].Field == field) return i;
        return -1;
    }

    /// <summary>The same operation with each argument value passed through <paramref name="map"/> (argument, value) → value.</summary>
    public Operation Rebuild(Operation op, Func<ArgSpec, ArgValue, ArgValue> map)
    {
        var values = Values(op);
        var mapped = new ArgValue[values.Length];
        var changed = false;
        for (var i = 0; i < values.Length; i++)
        {
            mapped[i] = map(Args[i], values[i]);
            changed |= mapped[i] != values[i];
        }
        return changed ? Build(mapped) : op;
    }
}

/// <summary>The typed entry of one operation record <typeparamref name="T"/>.</summary>
public sealed class OpSpec<T>(string name, ImmutableArray<ArgSpec> args, Func<IReadOnlyList<ArgValue>, T> build, Func<T, ImmutableArray<ArgValue>> values)
    : OpSpec(name, args) where T : Operation
{
    public override Type RecordType => typeof(T);

    public override Operation Build(IReadOnlyList<ArgValue> values) => build(values);

    public override ImmutableArray<ArgValue> Values(Operation op) => values((T)op);
}
