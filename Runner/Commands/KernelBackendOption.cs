using System.CommandLine;

namespace IommuConformance.Runner.Commands;

/// <summary><c>replay --backend implementation|kernel</c>: which system answers (the model always judges).</summary>
internal static class KernelBackendOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--backend")
        {
            Description = "implementation (default) or kernel: Linux under QEMU (docs/real-kernel.md; setup: scripts/kernel-setup.sh)",
            DefaultValueFactory = _ => "implementation",
        };
        option.AcceptOnlyFromAmong("implementation", "kernel");
        return option;
    }

    public static bool IsKernel(ParseResult parse, Option<string> option) => parse.GetValue(option) == "kernel";
}
