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

    internal static ArgValue V(string? text) => ArgValue.Of(text);

    internal static string S(IReadOnlyList<ArgValue> values, int i) => values[i].Text!;
}
