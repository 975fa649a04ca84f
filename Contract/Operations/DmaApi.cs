using IommuConformance.Contract.Vocabulary;
using static IommuConformance.Contract.Args;

namespace IommuConformance.Contract;

/// <summary><c>dir</c> of the DMA API (spec §4): enum dma_data_direction.</summary>
public static class DmaDirections
{
    public const string Bidirectional = "bidirectional";
    public const string ToDevice = "to_device";
    public const string FromDevice = "from_device";

    public static readonly IReadOnlyList<string> All = [Bidirectional, ToDevice, FromDevice];

    /// <summary>dma_info_to_prot(): the prot letters of a direction (coherent devices: cacheable).</summary>
    public static string Prot(string dir) => dir switch
    {
        ToDevice => "rc",
        FromDevice => "wc",
        _ => "rwc",
    };
}

/// <summary>The arguments of the DMA API and of fault injection.</summary>
public static class DmaArgs
{
    /// <summary>The namespace of the IOVA names a <c>dma_map</c>'s <c>as</c> binds.</summary>
    public const string IovaSpace = "iova";

    /// <summary>DMA_MAPPING_ERROR, <c>dma_map</c>'s value when nothing was mapped.</summary>
    public const ulong MappingError = ulong.MaxValue;

    /// <summary><c>size</c> of <c>dma_map</c> / <c>dma_unmap</c>, in bytes (0 is the kernel's to refuse).</summary>
    public static readonly ArgSpec Size = new("size", ArgKind.Number) { Align = PageAlign };

    /// <summary><c>dir</c>: a direction of <see cref="DmaDirections"/> (the kernel BUG()s on anything else: a trace error).</summary>
    public static readonly ArgSpec Dir = new("dir", ArgKind.Choice) { Choices = [.. DmaDirections.All] };

    /// <summary><c>cpu</c>: the CPU the call runs on (per-CPU rcaches and flush queues); at least config.cpus is EINVAL.</summary>
    public static readonly ArgSpec Cpu = new("cpu", ArgKind.Number) { Max = 255 };

    /// <summary><c>as</c> of <c>dma_map</c>: names the returned IOVA for later steps (optional).</summary>
    public static readonly ArgSpec As = new("as", ArgKind.Binder) { Space = IovaSpace, Optional = true };

    /// <summary>
    /// <c>mask</c>: the device's DMA mask in bits (optional, 64 when absent). Below 24 bits is a trace error: such a
    /// mask makes the rcache's <c>limit + 1 − size</c> wrap (docs/iova.md), which no driver can set up.
    /// </summary>
    public static readonly ArgSpec Mask = new("mask", ArgKind.Number) { Optional = true, Min = 24, Max = 64 };

    /// <summary><c>iova</c> of <c>dma_unmap</c>: an address, or the name an earlier <c>dma_map</c>'s <c>as</c> bound.</summary>
    public static readonly ArgSpec Iova = new("iova", ArgKind.Number) { Align = PageAlign, Space = IovaSpace };

    /// <summary><c>ms</c> of <c>tick</c>: milliseconds to advance the emulated clock by (a negative number is a trace error).</summary>
    public static readonly ArgSpec Ms = new("ms", ArgKind.Number) { Max = 1UL << 40 };

    /// <summary><c>n</c> of <c>fail_nth</c>: the n-th allocation from now fails (0 is a trace error).</summary>
    public static readonly ArgSpec N = new("n", ArgKind.Number) { Min = 1, Max = 1 << 20 };

    /// <summary>The DMA mask of a <c>mask</c> value (null: 64 bits).</summary>
    public static ulong MaskOf(ulong? bits) => bits is null or >= 64 ? ulong.MaxValue : (1UL << (int)bits.Value) - 1;
}

/// <summary>
/// <c>dma_map {dev, paddr, size, dir, cpu, as?, mask?}</c>: dma_map_page() by the device's driver on CPU <c>cpu</c>;
/// the value is the DMA address, or DMA_MAPPING_ERROR (0xffffffffffffffff).
/// </summary>
public sealed record DmaMap(string Dev, ulong Paddr, ulong Size, string Dir, ulong Cpu, string? As = null, ulong? Mask = null) : Operation
{
    public static readonly OpSpec<DmaMap> Entry = new("dma_map", [Args.Dev, Args.Paddr, DmaArgs.Size, DmaArgs.Dir, DmaArgs.Cpu, DmaArgs.As, DmaArgs.Mask],
        v => new(S(v, 0), U(v, 1), U(v, 2), S(v, 3), U(v, 4), v[5].Text, v[6].IsNull ? null : v[6].Number),
        o => [V(o.Dev), N(o.Paddr), N(o.Size), V(o.Dir), N(o.Cpu), V(o.As), o.Mask is { } m ? N(m) : ArgValue.Null])
    { Value = ValueSpec.Number };
    public override OpSpec Spec => Entry;
}

/// <summary>
/// <c>dma_unmap {dev, iova, size, dir, cpu}</c>: dma_unmap_page(); <c>iova</c> is an address or an IOVA name. Bad
/// unmaps (never mapped, another size or direction, twice) are refused by dma-debug with a warning.
/// </summary>
public sealed record DmaUnmap(string Dev, ulong Iova, string? IovaName, ulong Size, string Dir, ulong Cpu) : Operation
{
    public static readonly OpSpec<DmaUnmap> Entry = new("dma_unmap", [Args.Dev, DmaArgs.Iova, DmaArgs.Size, DmaArgs.Dir, DmaArgs.Cpu],
        v => new(S(v, 0), v[1].IsText ? 0 : U(v, 1), v[1].Text, U(v, 2), S(v, 3), U(v, 4)),
        o => [V(o.Dev), o.IovaName is { } name ? V(name) : N(o.Iova), N(o.Size), V(o.Dir), N(o.Cpu)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>tick {ms}</c>: the emulated clock moves on; flush-queue timers and IOVA depot work that fall due run.</summary>
public sealed record Tick(ulong Ms) : Operation
{
    public static readonly OpSpec<Tick> Entry = new("tick", [DmaArgs.Ms], v => new(U(v, 0)), o => [N(o.Ms)]);
    public override OpSpec Spec => Entry;
}

/// <summary><c>fail_nth {n}</c>: the n-th fallible allocation from now in the implementation fails (once).</summary>
public sealed record FailNth(ulong N) : Operation
{
    public static readonly OpSpec<FailNth> Entry = new("fail_nth", [DmaArgs.N], v => new(U(v, 0)), o => [Args.N(o.N)]);
    public override OpSpec Spec => Entry;
}
