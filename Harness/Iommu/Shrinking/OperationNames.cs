using IommuConformance.Contract;
using IommuConformance.Contract.Vocabulary;

namespace IommuConformance.Harness.Iommu.Shrinking;

/// <summary>
/// The device an operation names and a renaming of device names, by argument kind and space (from the table).
/// Handle names are the generic <see cref="Core.Shrinking.StepNames"/>'.
/// </summary>
public static class OperationNames
{
    /// <summary>The device the operation names (<c>dev</c>), if any.</summary>
    public static string? Device(Operation op)
    {
        var args = op.Spec.Args;
        for (var i = 0; i < args.Length; i++)
            if (args[i] is { Kind: ArgKind.Ref, Space: Spaces.Device }) return op.Values[i].Text;
        return null;
    }

    /// <summary>The same operation with its device names mapped.</summary>
    public static Operation RenameDevices(Operation op, Func<string, string> dev) =>
        op.Spec.Rebuild(op, (arg, value) => arg is { Kind: ArgKind.Ref, Space: Spaces.Device } && value.Text is { } text
            ? ArgValue.Of(dev(text))
            : value);
}
