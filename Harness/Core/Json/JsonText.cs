using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace IommuConformance.Harness.Core.Json;

/// <summary>Small pieces of canonical JSON text: quoted strings, one-line objects, indented lists.</summary>
public static class JsonText
{
    public static string Quote(string value) =>
        $"\"{JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}\"";

    public static string Bool(bool value) => value ? "true" : "false";

    /// <summary>Appends <c>"name": [ items ]</c>, one item per line, at <paramref name="indent"/>.</summary>
    public static void AppendList(StringBuilder text, string name, IEnumerable<string> lines, string indent, bool last)
    {
        var items = lines.ToList();
        var comma = last ? "" : ",";
        if (items.Count == 0)
        {
            text.Append($"{indent}\"{name}\": []{comma}\n");
            return;
        }
        text.Append($"{indent}\"{name}\": [\n");
        for (var i = 0; i < items.Count; i++)
            text.Append(indent).Append("  ").Append(items[i]).Append(i + 1 < items.Count ? ",\n" : "\n");
        text.Append($"{indent}]{comma}\n");
    }
}

/// <summary>A one-line JSON object: <c>{ "a": 1, "b": "x" }</c>.</summary>
public sealed class InlineObject
{
    private readonly List<string> _members = [];

    public bool IsEmpty => _members.Count == 0;

    public InlineObject Add(string name, string rawJson)
    {
        _members.Add($"\"{name}\": {rawJson}");
        return this;
    }

    public InlineObject AddIf(bool condition, string name, string rawJson) => condition ? Add(name, rawJson) : this;

    public override string ToString() => IsEmpty ? "{}" : $"{{ {string.Join(", ", _members)} }}";
}
