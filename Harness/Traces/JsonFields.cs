using System.Text.Json;

namespace IommuConformance.Harness.Traces;

/// <summary>
/// Reads the fields of one JSON object strictly: every typed getter names the location and field when the value
/// is missing or mistyped, and <see cref="EnsureNoOthers"/> rejects the fields nobody asked for (unknown fields).
/// </summary>
internal sealed class JsonFields
{
    private readonly Dictionary<string, JsonElement> _fields = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public JsonFields(JsonElement element, string location)
    {
        Location = location;
        if (element.ValueKind != JsonValueKind.Object)
            throw new TraceFormatException(location, null, $"expected a JSON object, found {Describe(element)}");
        foreach (var property in element.EnumerateObject())
            if (!_fields.TryAdd(property.Name, property.Value))
                throw new TraceFormatException(location, property.Name, "given twice");
    }

    public string Location { get; }

    public bool Has(string name) => _fields.ContainsKey(name);

    public string String(string name) =>
        OptionalString(name) ?? throw Fail(name, Has(name) ? "must be a string, not null" : "missing");

    /// <summary>A string that may be absent or JSON null (both give null).</summary>
    public string? OptionalString(string name)
    {
        if (!Take(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Mistyped(name, "a string", value);
    }

    /// <summary>A field that must be present and is a string or JSON null (owners).</summary>
    public string? NullableString(string name)
    {
        if (!Has(name)) throw Fail(name, "missing (use null for the NULL owner)");
        return OptionalString(name);
    }

    public int Int(string name) =>
        OptionalInt(name) ?? throw Fail(name, Has(name) ? "must be an integer, not null" : "missing");

    public int? OptionalInt(string name)
    {
        if (!Take(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw Mistyped(name, "an integer", value);
    }

    public bool? OptionalBool(string name)
    {
        if (!Take(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Mistyped(name, "true or false", value),
        };
    }

    public JsonElement? OptionalObject(string name)
    {
        if (!Take(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.Object ? value : throw Mistyped(name, "an object", value);
    }

    public JsonElement Object(string name) => OptionalObject(name) ?? throw Fail(name, "missing");

    public IReadOnlyList<JsonElement>? OptionalArray(string name)
    {
        if (!Take(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
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
                ? items[i].GetString()!
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

    private TraceFormatException Mistyped(string name, string expected, JsonElement value) =>
        Fail(name, $"must be {expected}, found {Describe(value)}");

    internal static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {value.GetRawText()}",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => value.ValueKind.ToString(),
    };
}
