using System.Globalization;
using System.Text.Json;

namespace IommuConformance.Harness.Core.Json;

/// <summary>
/// Reads the fields of one JSON object strictly: every typed getter names the location and field when the value
/// is missing, mistyped or null where null is not allowed, and <see cref="EnsureNoOthers"/> rejects the fields
/// nobody asked for. Strings that are not valid UTF-16 (a lone surrogate escape) are malformed, not a crash.
/// </summary>
public sealed class JsonFields
{
    private readonly Dictionary<string, JsonElement> _fields = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public JsonFields(JsonElement element, string location)
    {
        Location = location;
        if (element.ValueKind != JsonValueKind.Object)
            throw new TraceFormatException(location, null, $"expected a JSON object, found {Describe(element)}");
        foreach (var property in element.EnumerateObject())
        {
            var name = Text(property, location);
            if (!_fields.TryAdd(name, property.Value))
                throw new TraceFormatException(location, name, "given twice");
        }
    }

    public string Location { get; }

    public bool Has(string name) => _fields.ContainsKey(name);

    /// <summary>Whether the field is present and a JSON string that is not a <c>0x</c> number (a name where a number may be named).</summary>
    public bool IsName(string name) =>
        _fields.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String
        && !(value.GetString() ?? "").StartsWith("0x", StringComparison.OrdinalIgnoreCase);

    /// <summary>A required string.</summary>
    public string String(string name) =>
        OptionalString(name) ?? throw Fail(name, "missing");

    /// <summary>A string that may be absent (null then); JSON null is refused.</summary>
    public string? OptionalString(string name)
    {
        if (!Take(name, out var value)) return null;
        return value.ValueKind == JsonValueKind.String ? Text(value, name) : throw Mistyped(name, "a string", value);
    }

    /// <summary>A field that must be present and is a string or JSON null.</summary>
    public string? NullableString(string name)
    {
        if (!Take(name, out var value)) throw Fail(name, "missing (null is a value here, write it)");
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => Text(value, name),
            _ => throw Mistyped(name, "a string or null", value),
        };
    }

    /// <summary>A string field that may be absent or JSON null (both null): for fields whose format says null means "none".</summary>
    public string? StringOrNull(string name)
    {
        if (!Take(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String ? Text(value, name) : throw Mistyped(name, "a string or null", value);
    }

    public int? OptionalInt(string name)
    {
        if (!Take(name, out var value)) return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw Mistyped(name, "an integer", value);
    }

    /// <summary>An unsigned 64-bit integer written as a JSON number or a <c>0x</c> hex string; absent → null.</summary>
    public ulong? OptionalNumber(string name)
    {
        if (!Take(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var number)) return number;
        if (value.ValueKind == JsonValueKind.String && Text(value, name) is var text
            && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out number))
            return number;
        throw Mistyped(name, "an unsigned 64-bit integer (a number or a \"0x\" hex string)", value);
    }

    public bool? OptionalBool(string name)
    {
        if (!Take(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Mistyped(name, "true or false", value),
        };
    }

    public JsonElement? OptionalObject(string name)
    {
        if (!Take(name, out var value)) return null;
        return value.ValueKind == JsonValueKind.Object ? value : throw Mistyped(name, "an object", value);
    }

    public JsonElement Object(string name) => OptionalObject(name) ?? throw Fail(name, "missing");

    public IReadOnlyList<JsonElement>? OptionalArray(string name)
    {
        if (!Take(name, out var value)) return null;
        return value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : throw Mistyped(name, "an array", value);
    }

    public IReadOnlyList<JsonElement> Array(string name) => OptionalArray(name) ?? throw Fail(name, "missing");

    /// <summary>An array of strings; null when absent.</summary>
    public IReadOnlyList<string>? OptionalStrings(string name)
    {
        var items = OptionalArray(name);
        if (items is null) return null;
        var result = new List<string>(items.Count);
        for (var i = 0; i < items.Count; i++)
            result.Add(items[i].ValueKind == JsonValueKind.String
                ? Text(items[i], name)
                : throw Fail(name, $"item {i + 1} must be a string, found {Describe(items[i])}"));
        return result;
    }

    /// <summary>Rejects any field outside <paramref name="allowed"/> before reading (a typo beats "missing").</summary>
    public void EnsureOnly(IEnumerable<string> allowed)
    {
        var names = allowed.ToHashSet(StringComparer.Ordinal);
        foreach (var name in _fields.Keys)
            if (!names.Contains(name))
                throw Fail(name, $"unknown field; this object takes: {string.Join(", ", names)}");
    }

    /// <summary>Rejects every field that no getter read.</summary>
    public void EnsureNoOthers()
    {
        foreach (var name in _fields.Keys)
            if (!_read.Contains(name))
                throw Fail(name, "unknown field");
    }

    public TraceFormatException Fail(string field, string problem) => new(Location, field, problem);

    private bool Take(string name, out JsonElement value)
    {
        _read.Add(name);
        return _fields.TryGetValue(name, out value);
    }

    private string Text(JsonElement value, string field)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Fail(field, "holds a string that is not valid UTF-16 (a lone surrogate escape such as \\ud800)");
        }
    }

    private static string Text(JsonProperty property, string location)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            throw new TraceFormatException(location, null, "a field name is not valid UTF-16 (a lone surrogate escape such as \\ud800)");
        }
    }

    private TraceFormatException Mistyped(string name, string expected, JsonElement value) =>
        Fail(name, $"must be {expected}, found {Describe(value)}");

    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {value.GetRawText()}",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => value.ValueKind.ToString(),
    };
}
