using IommuConformance.Contract;

namespace IommuConformance.Harness.Printing;

/// <summary>
/// An operation as the tables print it: <c>attach_device {domain: d1, dev: dev0}</c>. Built from
/// <see cref="Operation.Fields"/> because the derived records' compiler-generated ToString hides the base one.
/// </summary>
public static class OperationText
{
    public static string Of(Operation op) =>
        $"{op.Name} {{{string.Join(", ", op.Fields().Select(f => $"{f.Field}: {f.Value ?? "null"}"))}}}";
}
