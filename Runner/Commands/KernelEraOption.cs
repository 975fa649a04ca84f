using System.CommandLine;
using IommuConformance.Contract;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>--era 7.0|6.1</c> of the kernel commands: the era the model follows and the booted kernel must be of (default the
/// contract's 7.0; 6.1 is an explicit opt-in, docs/real-kernel.md "Era"). A kernel of another era is refused, never
/// silently judged by other rules.
/// </summary>
internal static class KernelEraOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--era")
        {
            Description = $"kernel era the model follows and the booted kernel must be of: {string.Join(" or ", KernelEras.Names)} (default {KernelEras.V7_0}; kernel back-end only)",
            DefaultValueFactory = _ => KernelEras.V7_0,
        };
        option.AcceptOnlyFromAmong([.. KernelEras.Names]);
        return option;
    }

    public static KernelEra Get(ParseResult parse, Option<string> option) =>
        KernelEras.TryParse(parse.GetValue(option), out var era) ? era : KernelEra.V7_0;
}
