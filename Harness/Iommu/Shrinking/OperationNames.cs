using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Shrinking;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>The names an operation uses, by argument kind and space, and a renaming of them (all from the table).</summary>
public static class OperationNames
{
    public static string? Device(Operation op) => Find(op, ArgKind.Ref, Spaces.Device);

    /// <summary>The handle the operation uses (<c>domain</c>), if any.</summary>
    public static string? HandleUsed(Operation op) => Find(op, ArgKind.Handle, Spaces.Domain);

    /// <summary>The handle the operation binds (<c>as</c>), if any.</summary>
    public static string? HandleBound(Operation op) => Find(op, ArgKind.Binder, Spaces.Domain);

    private static string? Find(Operation op, ArgKind kind, string space)
    {
        var args = op.Spec.Args;
        for (var i = 0; i < args.Length; i++)
            if (args[i].Kind == kind && args[i].Space == space) return op.Values[i].Text;
        return null;
    }

    /// <summary>The same operation with its device names and domain-handle names mapped.</summary>
    public static Operation Rename(Operation op, Func<string, string> dev, Func<string, string> handle) =>
        RenameDevices(StepNames.RenameHandles(op, (space, name) => space == Spaces.Domain ? handle(name) : name), dev);

    /// <summary>The same operation with its device names mapped.</summary>
    public static Operation RenameDevices(Operation op, Func<string, string> dev) =>
        op.Spec.Rebuild(op, (arg, value) => arg is { Kind: ArgKind.Ref, Space: Spaces.Device } && value.Text is { } text
            ? ArgValue.Of(dev(text))
            : value);
}
