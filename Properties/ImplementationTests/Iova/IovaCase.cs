using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;

namespace IommuConformance.Properties.ImplementationTests.IovaAllocator;

/// <summary>One step of an allocator trace.</summary>
public abstract record IovaOp;

/// <summary>alloc_iova_fast (Fast) or alloc_iova, below 4 GiB or up to the domain's 64-bit limit (High).</summary>
public sealed record AllocOp(bool Fast, int Cpu, ulong Size, bool High, bool Aligned, bool Flush) : IovaOp;

/// <summary>Frees the Pick-th held range (modulo): free_iova_fast on Cpu for a fast one, free_iova for a tree one.</summary>
public sealed record FreeOp(int Pick, int Cpu) : IovaOp;

/// <summary>Count single-granule alloc_iova_fast on Cpu, then free_iova_fast of all of them on FreeCpu: drives the depot.</summary>
public sealed record BurstOp(int Cpu, int FreeCpu, int Count, bool High) : IovaOp;

/// <summary>Allocates ranges of one size until an allocation fails: exhausts the space (max32, the retry, the flush).</summary>
public sealed record FillOp(bool Fast, int Cpu, ulong Size, bool High, bool Flush) : IovaOp;

/// <summary>Frees every Stride-th held range, from the oldest: fragments the space.</summary>
public sealed record FreeSomeOp(int Stride, int Cpu) : IovaOp;

public sealed record TickOp(int Ms) : IovaOp;

public sealed record FlushCpuOp(int Cpu) : IovaOp;

public sealed record FlushGlobalOp : IovaOp;

/// <summary>Reservations made at domain setup (as dma-iommu does), then a sequence of operations.</summary>
public sealed record IovaCase(ImmutableArray<(ulong Lo, ulong Hi)> Reserves, ImmutableArray<IovaOp> Ops)
{
    public override string ToString() =>
        $"reserves [{string.Join(", ", Reserves.Select(r => $"0x{r.Lo:x}-0x{r.Hi:x}"))}]\n  " + string.Join("\n  ", Ops);

    public const ulong Start = 0xFFE00, Limit32 = 0xFFFFF, Limit64 = 0x1001FF;   // 512 pfns each side of 4 GiB
    public const int Cpus = 2;

    private static readonly Gen<ulong> Size = Gen.Frequency(
        (6, Gen.Constant(1UL)),
        (3, Gen.Choose(2, 8).Select(s => (ulong)s)),
        (1, Gen.Choose(9, 40).Select(s => (ulong)s)));

    private static readonly Gen<IovaOp> Op = Gen.Frequency(
        (5, from fast in Gen.Frequency((3, Gen.Constant(true)), (1, Gen.Constant(false)))
            from cpu in Gen.Choose(0, Cpus - 1) from size in Size from high in Gen.Elements(true, false)
            from aligned in Gen.Elements(true, false) from flush in Gen.Elements(true, false)
            select (IovaOp)new AllocOp(fast, cpu, size, high, aligned, flush)),
        (4, from pick in Gen.Choose(0, 1000) from cpu in Gen.Choose(0, Cpus - 1) select (IovaOp)new FreeOp(pick, cpu)),
        (1, from cpu in Gen.Choose(0, Cpus - 1) from freeCpu in Gen.Choose(0, Cpus - 1)
            from count in Gen.Frequency((3, Gen.Choose(1, 300)), (1, Gen.Choose(400, 800)))
            from high in Gen.Elements(true, false) select (IovaOp)new BurstOp(cpu, freeCpu, count, high)),
        (1, from fast in Gen.Elements(true, false) from cpu in Gen.Choose(0, Cpus - 1) from size in Size
            from high in Gen.Elements(true, false) from flush in Gen.Elements(true, false)
            select (IovaOp)new FillOp(fast, cpu, size, high, flush)),
        (1, from stride in Gen.Choose(1, 4) from cpu in Gen.Choose(0, Cpus - 1) select (IovaOp)new FreeSomeOp(stride, cpu)),
        (1, Gen.Choose(0, 250).Select(ms => (IovaOp)new TickOp(ms))),
        (1, Gen.OneOf(Gen.Choose(0, Cpus - 1).Select(c => (IovaOp)new FlushCpuOp(c)), Gen.Constant((IovaOp)new FlushGlobalOp()))));

    private static readonly Gen<(ulong, ulong)> Reserve =
        from lo in Gen.Choose(0, (int)(Limit64 - Start)) from len in Gen.Choose(1, 40)
        select (Start + (ulong)lo, Math.Min(Limit64, Start + (ulong)lo + (ulong)len - 1));

    public static Arbitrary<IovaCase> Arbitrary { get; } = Arb.From(
        from reserves in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Reserve, n))
        from n in Gen.Choose(1, 60) from ops in Gen.ArrayOf(Op, n)
        select new IovaCase([.. reserves], [.. ops]),
        Shrink);

    // Drop one operation, then one reservation.
    private static IEnumerable<IovaCase> Shrink(IovaCase c)
    {
        for (var i = 0; i < c.Ops.Length; i++) yield return c with { Ops = c.Ops.RemoveAt(i) };
        for (var i = 0; i < c.Reserves.Length; i++) yield return c with { Reserves = c.Reserves.RemoveAt(i) };
    }
}
