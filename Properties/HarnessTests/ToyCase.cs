using System.Collections.Immutable;
using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// A test-only vocabulary for the generic core, with every argument kind the IOMMU table lacks or has few of:
/// aligned numbers with a floor, a flag, a closed choice, an optional choice, a nullable token, and handles of
/// their own space.
/// </summary>
internal static class ToyArgs
{
    public const string Buffers = "buf";

    /// <summary>A page-aligned address, never 0.</summary>
    public static readonly ArgSpec Iova = new("iova", ArgKind.Number) { Align = 0x1000, Min = 0x1000 };

    /// <summary>A page-aligned size of 2 pages or more (the floor is not itself aligned: 0x1800 rounds up to 0x2000).</summary>
    public static readonly ArgSpec Size = new("size", ArgKind.Number) { Align = 0x1000, Min = 0x1800, Max = 0x100000 };

    public static readonly ArgSpec Write = new("write", ArgKind.Flag);
    public static readonly ArgSpec As = new("as", ArgKind.Binder) { Space = Buffers };
    public static readonly ArgSpec Buf = new("buf", ArgKind.Handle) { Space = Buffers };
    public static readonly ArgSpec Mode = new("mode", ArgKind.Choice) { Choices = ["ro", "rw", "wo"] };
    public static readonly ArgSpec Owner = new("owner", ArgKind.Token) { Nullable = true };
    public static readonly ArgSpec Tag = new("tag", ArgKind.Choice) { Choices = ["a", "b"], Optional = true };

    /// <summary>The table (built on use: the entries' initialisers read the arguments above).</summary>
    public static OpTable Table => new([ToyMap.Entry, ToyOpen.Entry, ToyUse.Entry, ToyClose.Entry]);
}

internal sealed record ToyMap(ulong Iova, ulong Size, bool Write = false) : Operation
{
    public static readonly OpSpec<ToyMap> Entry = new("map", [ToyArgs.Iova, ToyArgs.Size, ToyArgs.Write],
        v => new(v[0].Number, v[1].Number, v[2].Bool), o => [ArgValue.Of(o.Iova), ArgValue.Of(o.Size), ArgValue.Of(o.Write)]);
    public override OpSpec Spec => Entry;
}

internal sealed record ToyOpen(string As, string Mode = "ro", string? Owner = null) : Operation
{
    public static readonly OpSpec<ToyOpen> Entry = new("open", [ToyArgs.As, ToyArgs.Mode, ToyArgs.Owner],
        v => new(v[0].Text!, v[1].Text!, v[2].Text), o => [ArgValue.Of(o.As), ArgValue.Of(o.Mode), ArgValue.Of(o.Owner)]);
    public override OpSpec Spec => Entry;
}

internal sealed record ToyUse(string Buf, string? Tag = null) : Operation
{
    public static readonly OpSpec<ToyUse> Entry = new("use", [ToyArgs.Buf, ToyArgs.Tag],
        v => new(v[0].Text!, v[1].Text), o => [ArgValue.Of(o.Buf), ArgValue.Of(o.Tag)]);
    public override OpSpec Spec => Entry;
}

internal sealed record ToyClose(string Buf) : Operation
{
    public static readonly OpSpec<ToyClose> Entry = new("close", [ToyArgs.Buf], v => new(v[0].Text!), o => [ArgValue.Of(o.Buf)]);
    public override OpSpec Spec => Entry;
}

/// <summary>A case of the toy vocabulary on a machine that is only a name.</summary>
internal sealed record ToyCase(ImmutableArray<TraceStep> Steps, string Machine = "toy") : ICase<ToyCase>
{
    public static ToyCase Of(params Operation[] ops) => new([.. ops.Select(o => new TraceStep(o))]);

    public ToyCase WithSteps(IEnumerable<TraceStep> steps) => this with { Steps = [.. steps] };

    public string MachineKey => Machine;

    public IEnumerable<Operation> Ops => Steps.Select(s => s.Op);

    public bool Equals(ToyCase? other) => other is not null && Machine == other.Machine && Steps.SequenceEqual(other.Steps);

    public override int GetHashCode() => HashCode.Combine(Machine, Steps.Length);

    public override string ToString() => string.Join("; ", Ops);
}
