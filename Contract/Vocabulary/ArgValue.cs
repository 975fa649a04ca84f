using System.Globalization;

namespace IommuConformance.Contract.Vocabulary;

/// <summary>One argument's value: null, a string, an unsigned integer or a boolean. Compared by value.</summary>
public readonly struct ArgValue : IEquatable<ArgValue>
{
    private enum Tag : byte { Null, Text, Number, Bool }

    private readonly Tag _tag;
    private readonly string? _text;
    private readonly ulong _number;

    private ArgValue(Tag tag, string? text, ulong number)
    {
        _tag = tag;
        _text = text;
        _number = number;
    }

    public static readonly ArgValue Null;

    public static ArgValue Of(string? text) => text is null ? Null : new(Tag.Text, text, 0);

    public static ArgValue Of(ulong number) => new(Tag.Number, null, number);

    public static ArgValue Of(bool flag) => new(Tag.Bool, null, flag ? 1UL : 0UL);

    public bool IsNull => _tag == Tag.Null;

    public bool IsText => _tag == Tag.Text;

    public bool IsNumber => _tag == Tag.Number;

    public bool IsBool => _tag == Tag.Bool;

    /// <summary>The string, or null when the value is null or not a string.</summary>
    public string? Text => _text;

    /// <summary>The integer (0 unless <see cref="IsNumber"/>).</summary>
    public ulong Number => _tag == Tag.Number ? _number : 0;

    public bool Bool => _tag == Tag.Bool && _number != 0;

    public bool Equals(ArgValue other) => _tag == other._tag && _number == other._number && _text == other._text;

    public override bool Equals(object? obj) => obj is ArgValue other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_tag, _text, _number);

    public static bool operator ==(ArgValue a, ArgValue b) => a.Equals(b);

    public static bool operator !=(ArgValue a, ArgValue b) => !a.Equals(b);

    /// <summary>As printed in tables: strings bare, numbers in 0x hex above 9, <c>null</c>, <c>true</c>/<c>false</c>.</summary>
    public override string ToString() => _tag switch
    {
        Tag.Text => _text!,
        Tag.Number => _number < 10 ? _number.ToString(CultureInfo.InvariantCulture) : $"0x{_number:x}",
        Tag.Bool => _number != 0 ? "true" : "false",
        _ => "null",
    };
}
