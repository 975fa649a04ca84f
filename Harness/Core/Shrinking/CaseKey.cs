using System.Globalization;
using System.Text;
using IommuConformance.Contract.Vocabulary;
using IommuConformance.Harness.Core.Steps;

namespace IommuConformance.Harness.Core.Shrinking;

/// <summary>
/// The identity of a case for de-duplicating shrink candidates and memoising their runs: the machine key and every
/// step (operation name, each argument value tagged by its shape so that <c>null</c> and the string "null" differ,
/// and the <c>expect</c>). Two cases with one key run alike.
/// </summary>
public static class CaseKey
{
    public static string Of<TCase>(TCase c) where TCase : ICase<TCase>
    {
        var text = new StringBuilder(c.MachineKey);
        foreach (var step in c.Steps) Append(text.Append('\n'), step);
        return text.ToString();
    }

    /// <summary>One step's part of the key.</summary>
    public static StringBuilder Append(StringBuilder text, TraceStep step)
    {
        var op = step.Op;
        text.Append(op.Name);
        foreach (var value in op.Values)
        {
            if (value.IsNull) text.Append(" ~");
            else if (value.IsNumber) text.Append(" #").Append(value.Number.ToString(CultureInfo.InvariantCulture));
            else if (value.IsBool) text.Append(value.Bool ? " +" : " -");
            else text.Append(' ').Append(value.Text!.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value.Text);
        }
        if (step.Expect is { } expect) text.Append(" => ").Append(expect);
        return text;
    }
}
