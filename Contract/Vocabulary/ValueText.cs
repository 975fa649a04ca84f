using System.Globalization;

namespace IommuConformance.Contract.Vocabulary;

/// <summary>
/// The canonical text of non-string answer values (<see cref="ValueKind"/>): numbers as <c>0x</c> lower-case hex,
/// tagged values as <c>field=value</c>. Generic: the harness core reads and writes traces with it.
/// </summary>
public static class ValueText
{
    public static string Number(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    public static string Field(string field, ulong value) => field + "=" + Number(value);

    public static string Field(string field, string text) => field + "=" + text;

    /// <summary>Parses a canonical number (<c>0x…</c>).</summary>
    public static bool TryNumber(string? text, out ulong value)
    {
        value = 0;
        return text is not null && text.StartsWith("0x", StringComparison.Ordinal) && text.Length > 2
            && ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Splits a canonical tagged value into its field and its value text.</summary>
    public static bool TryField(string? text, out string field, out string value)
    {
        field = value = "";
        var eq = text?.IndexOf('=') ?? -1;
        if (eq <= 0) return false;
        field = text![..eq];
        value = text[(eq + 1)..];
        return true;
    }
}
