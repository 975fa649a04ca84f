using IommuConformance.Contract.Vocabulary;

namespace IommuConformance.Contract;

/// <summary>The namespaces of names in traces: topology objects and the handles steps bind.</summary>
public static class Spaces
{
    public const string Device = "device";
    public const string Bus = "bus";
    public const string Domain = "domain";
}

/// <summary>The arguments of this vocabulary, shared by the operations that take them (spec §4 field names).</summary>
public static class Args
{
    /// <summary><c>dev</c>: a device of the topology.</summary>
    public static readonly ArgSpec Dev = new("dev", ArgKind.Ref) { Space = Spaces.Device };

    /// <summary><c>bus</c>: a bus of the topology.</summary>
    public static readonly ArgSpec Bus = new("bus", ArgKind.Ref) { Space = Spaces.Bus };

    /// <summary><c>domain</c>: a domain handle bound by an earlier <c>as</c> (possibly freed since).</summary>
    public static readonly ArgSpec Domain = new("domain", ArgKind.Handle) { Space = Spaces.Domain };

    /// <summary><c>as</c>: names the domain the step allocates.</summary>
    public static readonly ArgSpec As = new("as", ArgKind.Binder) { Space = Spaces.Domain };

    /// <summary><c>owner</c>: an owner cookie; <c>null</c> is the NULL owner.</summary>
    public static readonly ArgSpec Owner = new("owner", ArgKind.Token) { Nullable = true };

    /// <summary><c>type</c>: what is written to the sysfs type file; other strings are the kernel's to refuse (EINVAL).</summary>
    public static readonly ArgSpec SysfsType = new("type", ArgKind.Choice)
    {
        Choices = [GroupTypeStrings.Dma, GroupTypeStrings.Identity, GroupTypeStrings.DmaFq, GroupTypeStrings.Auto],
        Open = true,
    };

    /// <summary><c>flags</c>: optional HWPT allocation flag.</summary>
    public static readonly ArgSpec AllocFlag = new("flags", ArgKind.Choice) { Choices = [AllocFlags.DirtyTracking], Optional = true };

    /// <summary>The unit addresses and sizes are generated and shrunk in: 4 KiB (a multiple of every driver's smallest page).</summary>
    public const ulong PageAlign = 0x1000;

    /// <summary><c>iova</c> of the IOMMU API: an I/O virtual address (any value: a bad one is the kernel's to refuse).</summary>
    public static readonly ArgSpec Iova = new("iova", ArgKind.Number) { Align = PageAlign };

    /// <summary><c>paddr</c>: the physical address a mapping starts at.</summary>
    public static readonly ArgSpec Paddr = new("paddr", ArgKind.Number) { Align = PageAlign };

    /// <summary><c>size</c> of <c>map</c> and <c>unmap</c>, in bytes (0 and unaligned sizes are answered EINVAL / 0).</summary>
    public static readonly ArgSpec Size = new("size", ArgKind.Number) { Align = PageAlign };

    /// <summary>
    /// <c>prot</c>: a string of flags (spec §4): <c>r</c> read, <c>w</c> write, <c>c</c> cache, <c>n</c> no-exec,
    /// <c>m</c> MMIO, <c>p</c> privileged; any string is accepted by the format (an unknown or repeated letter is EINVAL).
    /// </summary>
    public static readonly ArgSpec Prot = new("prot", ArgKind.Choice)
    {
        Choices = [ProtFlags.ReadWrite, ProtFlags.Read, ProtFlags.Write, "rwc", "rn", "wp", "c"],
        Open = true,
    };

    /// <summary><c>iova</c> of <c>device_dma</c>: any byte address (DMA need not be page-aligned).</summary>
    public static readonly ArgSpec DmaIova = new("iova", ArgKind.Number);

    /// <summary><c>size</c> of <c>device_dma</c>, in bytes (0 is EINVAL).</summary>
    public static readonly ArgSpec DmaSize = new("size", ArgKind.Number);

    /// <summary><c>write</c>: the DMA writes memory (true) or reads it (false).</summary>
    public static readonly ArgSpec Write = new("write", ArgKind.Flag);

    /// <summary><c>pasid</c>: optional PASID tag of the DMA (absent: untagged, the RID's domain).</summary>
    public static readonly ArgSpec Pasid = new("pasid", ArgKind.Number) { Optional = true, Max = (1UL << 20) - 1 };

    internal static ArgValue V(string? text) => ArgValue.Of(text);

    internal static ArgValue N(ulong number) => ArgValue.Of(number);

    internal static ArgValue B(bool flag) => ArgValue.Of(flag);

    internal static string S(IReadOnlyList<ArgValue> values, int i) => values[i].Text!;

    internal static ulong U(IReadOnlyList<ArgValue> values, int i) => values[i].Number;
}
