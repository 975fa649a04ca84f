namespace IommuConformance.Harness.Core.Json;

/// <summary>
/// A trace file that cannot be replayed: bad JSON, an unknown format, field or name, a missing or mistyped
/// value. <see cref="Exception.Message"/> always names where (the 1-based step and its op, or the topology
/// entry) and the field, so that a hand-edited trace can be fixed from the message alone.
/// </summary>
public sealed class TraceFormatException : Exception
{
    public TraceFormatException(string location, string? field, string problem)
        : base(Compose(location, field, problem))
    {
        Location = location;
        Field = field;
    }

    /// <summary>Where: <c>step 3 (attach_device)</c>, <c>topology.devices[1] (dev1)</c>, <c>config</c>, ...</summary>
    public string Location { get; }

    /// <summary>The offending field, or null when the problem is the whole object.</summary>
    public string? Field { get; }

    private static string Compose(string location, string? field, string problem) =>
        field is null ? $"{location}: {problem}" : $"{location}: field '{field}': {problem}";
}
