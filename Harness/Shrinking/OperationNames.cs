using IommuConformance.Contract;
using IommuConformance.Harness.Traces;

namespace IommuConformance.Harness.Shrinking;

/// <summary>The names an operation uses, read from its canonical fields, and a renaming of them.</summary>
public static class OperationNames
{
    public static string? Device(Operation op) => Field(op, "dev");

    /// <summary>The handle the operation uses (<c>domain</c>), if any.</summary>
    public static string? HandleUsed(Operation op) => Field(op, "domain");

    /// <summary>The handle the operation binds (<c>as</c>), if any.</summary>
    public static string? HandleBound(Operation op) => Field(op, "as");

    private static string? Field(Operation op, string field) =>
        op.Fields().Where(f => f.Field == field).Select(f => f.Value).FirstOrDefault();

    /// <summary>The same operation with its device (<c>dev</c>) and handle (<c>domain</c>, <c>as</c>) names mapped.</summary>
    public static Operation Rename(Operation op, Func<string, string> dev, Func<string, string> handle) =>
        OperationShapes.Rebuild(op, (field, value) => value is null ? null : field switch
        {
            "dev" => dev(value),
            "domain" or "as" => handle(value),
            _ => value,
        });
}
