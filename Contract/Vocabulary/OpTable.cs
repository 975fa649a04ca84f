using System.Collections.Frozen;
using System.Collections.Immutable;

namespace IommuConformance.Contract.Vocabulary;

/// <summary>An operation vocabulary: its entries by name and by record type. Names and record types are unique.</summary>
public sealed class OpTable
{
    private readonly FrozenDictionary<string, OpSpec> _byName;
    private readonly FrozenDictionary<Type, OpSpec> _byType;

    public OpTable(IEnumerable<OpSpec> entries)
    {
        All = [.. entries];
        _byName = All.ToFrozenDictionary(e => e.Name, StringComparer.Ordinal);
        _byType = All.ToFrozenDictionary(e => e.RecordType);
    }

    public ImmutableArray<OpSpec> All { get; }

    public IEnumerable<string> Names => All.Select(e => e.Name);

    public OpSpec? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The entry of a record type; throws for a record missing from the table (a suite bug).</summary>
    public OpSpec Of(Operation op) =>
        _byType.TryGetValue(op.GetType(), out var spec) ? spec
            : throw new InvalidOperationException($"{op.GetType().Name} has no entry in the operation table");
}
