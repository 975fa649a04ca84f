using System.Collections.Immutable;

namespace IommuConformance.Contract;

/// <summary>
/// What one operation answered: the errno, the value (a domain name, a sysfs string, a number as 0x hex),
/// and the kernel warnings it raised, in order. Outcomes of model and implementation are compared whole.
/// </summary>
public sealed record Outcome(Errno Errno, string? Value, ImmutableArray<string> Warnings)
{
    public static readonly Outcome Ok = new(Errno.OK, null, []);

    public static Outcome Of(Errno errno) => errno == Errno.OK ? Ok : new(errno, null, []);

    public static Outcome OkWith(string value) => new(Errno.OK, value, []);

    public Outcome WithWarnings(IEnumerable<string> warnings) => this with { Warnings = [.. Warnings, .. warnings] };

    public bool Equals(Outcome? other) =>
        other is not null && Errno == other.Errno && Value == other.Value && Warnings.SequenceEqual(other.Warnings);

    public override int GetHashCode() => HashCode.Combine(Errno, Value, Warnings.Length);

    /// <summary>Compact form used in tables: <c>OK "d1" [warn_name]</c>.</summary>
    public override string ToString()
    {
        var text = Errno.ToString();
        if (Value is not null) text += $" \"{Value}\"";
        if (!Warnings.IsEmpty) text += $" [{string.Join(", ", Warnings)}]";
        return text;
    }
}
