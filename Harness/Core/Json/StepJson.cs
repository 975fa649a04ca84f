using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Json;

/// <summary>
/// Steps as JSON, derived from an operation table: <c>{ "op": NAME, ARG: VALUE, ..., "expect": {...} }</c>. Every
/// argument is read and written by its kind; no operation has reader or writer code of its own. A warning is known when
/// it is one of <paramref name="warnings"/> or <paramref name="isKnown"/> admits it (open families such as per-device lines).
/// </summary>
public sealed class StepJson(OpTable table, IReadOnlyCollection<string> warnings, Func<string, bool>? isKnown = null)
{
    private static readonly FrozenDictionary<string, Errno> Errnos = Enum.GetValues<Errno>().ToFrozenDictionary(e => e.ToString());

    public OpTable Table => table;

    /// <summary>Reads step number <paramref name="number"/> (1-based, for messages).</summary>
    public TraceStep Read(JsonElement element, int number)
    {
        var fields = new JsonFields(element, $"step {number}");
        var name = fields.String("op");
        if (table.Find(name) is not { } spec)
            throw fields.Fail("op", $"unknown operation \"{name}\"; known: {string.Join(", ", table.Names.Order(StringComparer.Ordinal))}");
        fields = new JsonFields(element, $"step {number} ({name})");
        fields.EnsureOnly(["op", .. spec.Args.Select(a => a.Field), "expect"]);
        fields.String("op");
        var values = new ArgValue[spec.Args.Length];
        for (var i = 0; i < values.Length; i++)
            values[i] = ReadArg(fields, spec.Args[i]);
        var expect = fields.OptionalObject("expect") is { } e ? ReadExpect(new JsonFields(e, $"step {number} ({name}) expect"), spec.Value) : null;
        fields.EnsureNoOthers();
        return new TraceStep(spec.Build(values), expect);
    }

    private static ArgValue ReadArg(JsonFields fields, ArgSpec arg)
    {
        if (!fields.Has(arg.Field) && arg.Optional) return ArgValue.Null;
        var value = arg.Kind switch
        {
            ArgKind.Number when arg.Space.Length > 0 && fields.IsName(arg.Field) => ArgValue.Of(fields.String(arg.Field)),
            ArgKind.Number => fields.OptionalNumber(arg.Field) is { } n ? ArgValue.Of(n) : throw fields.Fail(arg.Field, "missing"),
            ArgKind.Flag => fields.OptionalBool(arg.Field) is { } b ? ArgValue.Of(b) : throw fields.Fail(arg.Field, "missing"),
            _ when arg.Nullable => ArgValue.Of(fields.NullableString(arg.Field)),
            _ => ArgValue.Of(fields.String(arg.Field)),
        };
        if (!arg.Admits(value)) throw fields.Fail(arg.Field, Refusal(arg, value));
        return value;
    }

    /// <summary>Why <paramref name="value"/> is not a value of <paramref name="arg"/>.</summary>
    public static string Refusal(ArgSpec arg, ArgValue value) => arg.Kind switch
    {
        ArgKind.Choice => $"unknown value \"{value}\"; known: {string.Join(", ", arg.Choices)}",
        ArgKind.Number => $"must be in [{arg.Min}, {arg.Max}], found {value.Number}",
        _ when value.IsText && value.Text!.Length == 0 => "must not be empty",
        _ => $"is not a {arg.Kind.ToString().ToLowerInvariant()}",
    };

    private Expect ReadExpect(JsonFields fields, ValueSpec shape)
    {
        var errnoName = fields.String("errno");
        if (!Errnos.TryGetValue(errnoName, out var errno))
            throw fields.Fail("errno", $"unknown errno \"{errnoName}\"; known: {string.Join(", ", Enum.GetNames<Errno>())}");
        var value = ReadValue(fields, shape);
        var warns = fields.OptionalStrings("warnings");
        if (warns?.FirstOrDefault(w => !warnings.Contains(w) && isKnown?.Invoke(w) != true) is { } unknown)
            throw fields.Fail("warnings", $"unknown warning \"{unknown}\"; known: {string.Join(", ", warnings)}");
        fields.EnsureNoOthers();
        return new Expect(errno, value, warns is null ? null : [.. warns]);
    }

    /// <summary>
    /// <c>expect.value</c> by the operation's value shape, as the canonical string of <see cref="ValueText"/>: a
    /// string; a number (JSON number or <c>0x</c> string) → <c>0x…</c>; a tagged object <c>{ "phys": 4096 }</c> →
    /// <c>phys=0x1000</c>, <c>{ "fault": "translation" }</c> → <c>fault=translation</c>.
    /// </summary>
    private static string? ReadValue(JsonFields fields, ValueSpec shape)
    {
        if (!fields.Has("value")) return null;
        switch (shape.Kind)
        {
            case ValueKind.Number:
                return fields.OptionalNumber("value") is { } n ? ValueText.Number(n) : null;
            case ValueKind.Tagged:
                var obj = fields.Object("value");
                var inner = new JsonFields(obj, fields.Location + " value");
                var present = shape.Fields.Where(inner.Has).ToList();
                if (present.Count != 1)
                    throw fields.Fail("value", $"must be an object with exactly one of {string.Join(", ", shape.Fields.Select(f => $"\"{f}\""))}");
                var field = present[0];
                var element = obj.GetProperty(field);
                var isText = element.ValueKind == JsonValueKind.String
                    && !(element.GetString() ?? "").StartsWith("0x", StringComparison.OrdinalIgnoreCase);
                var text = isText ? ValueText.Field(field, inner.String(field)) : ValueText.Field(field, inner.OptionalNumber(field)!.Value);
                inner.EnsureNoOthers();
                return text;
            default:
                return fields.OptionalString("value");
        }
    }

    /// <summary>A canonical value as JSON, by shape (the inverse of <see cref="ReadValue"/>).</summary>
    public static string WriteValue(string value, ValueSpec shape)
    {
        switch (shape.Kind)
        {
            case ValueKind.Number when ValueText.TryNumber(value, out var n):
                return Value(ArgValue.Of(n));
            case ValueKind.Tagged when ValueText.TryField(value, out var field, out var rest):
                var inner = ValueText.TryNumber(rest, out var m) ? Value(ArgValue.Of(m)) : JsonText.Quote(rest);
                return new InlineObject().Add(field, inner).ToString();
            default:
                return JsonText.Quote(value);
        }
    }

    /// <summary>One step as a single-line JSON object, arguments in table order, optional ones left out when null.</summary>
    public static string Write(TraceStep step)
    {
        var spec = step.Op.Spec;
        var values = step.Op.Values;
        var line = new InlineObject().Add("op", JsonText.Quote(spec.Name));
        for (var i = 0; i < values.Length; i++)
            if (!(values[i].IsNull && spec.Args[i].Optional))
                line.Add(spec.Args[i].Field, Value(values[i]));
        if (step.Expect is { } expect) line.Add("expect", WriteExpect(expect, spec.Value));
        return line.ToString();
    }

    /// <summary>A value as JSON: strings quoted, numbers below 2^32 as numbers and larger ones as 0x hex strings.</summary>
    public static string Value(ArgValue value) =>
        value.IsText ? JsonText.Quote(value.Text!)
        : value.IsNumber ? (value.Number <= uint.MaxValue ? value.Number.ToString(CultureInfo.InvariantCulture) : $"\"0x{value.Number:x}\"")
        : value.IsBool ? JsonText.Bool(value.Bool)
        : "null";

    public static string WriteExpect(Expect expect, ValueSpec? shape = null)
    {
        var line = new InlineObject().Add("errno", JsonText.Quote(expect.Errno.ToString()));
        if (expect.Value is not null) line.Add("value", WriteValue(expect.Value, shape ?? ValueSpec.Text));
        if (expect.Warnings is { } w) line.Add("warnings", $"[{string.Join(", ", w.Select(JsonText.Quote))}]");
        return line.ToString();
    }
}
