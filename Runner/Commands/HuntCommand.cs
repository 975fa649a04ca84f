using System.Globalization;
using System.Text;
using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Iommu.Execution;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Iommu.Generation;
using IommuConformance.Implementations.Bugs;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>hunt [--max-test N] [--seed SEED,GAMMA] [--bug NAME]... [--out DIR]</c>: switch each seeded bug on in turn
/// and run the default property; report whether it was found, after how many traces, and how short the shrunk
/// trace is against the documented minimum. Writes reports/hunt.md. Exit 0 when every bug was found and shrunk
/// to its documented length, 1 otherwise.
/// </summary>
public static class HuntCommand
{
    public static readonly Command Command = new("hunt", "hunt [--max-test N] [--seed SEED,GAMMA] [--bug NAME]... [--out DIR]", "switch on each seeded bug in turn; writes reports/hunt.md", Run);

    private static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        if (!CampaignOptions.TryParse(args, errors, out var options)) return ExitCodes.Usage;
        var bugs = BugCatalogue.All.Where(b => options.Bugs.IsEmpty || options.Bugs.Contains(b.Name)).ToArray();
        var table = new StringBuilder()
            .AppendLine("# Seeded-bug hunt").AppendLine()
            .AppendLine($"Default property run, `{CheckSettings.SeedVariable}={options.Settings.Replay}`, at most {options.Settings.MaxTest} traces per bug.").AppendLine()
            .AppendLine("| bug | found | traces | shrinks | shrunk steps | documented | time (s) |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|");
        var allGood = true;
        Directory.CreateDirectory(options.Out);
        foreach (var bug in bugs)
        {
            var result = PropertyCheck.Hunt(bug.Name, options.Settings);
            var steps = result.Shrunk?.Trace.Steps.Length;
            var good = result.Failed && steps <= bug.MinimalSteps;
            allGood &= good;
            var row = $"| `{bug.Name}` | {(result.Failed ? "yes" : "**no**")} | {result.Tests} | {result.Shrinks} | "
                + $"{steps?.ToString(CultureInfo.InvariantCulture) ?? "-"} | {bug.MinimalSteps} | {result.Elapsed.TotalSeconds:F2} |";
            table.AppendLine(row);
            output.WriteLine(row);
            if (result.Shrunk is { } failure)
                FailureFiles.Save(options.Out, $"bug-{bug.Name}", failure);
        }
        File.WriteAllText(Path.Combine(options.Out, "hunt.md"), table.ToString());
        output.WriteLine(allGood ? "every seeded bug found and shrunk to its documented length" : "SOME BUGS ESCAPED or shrank too little");
        return allGood ? ExitCodes.Conformant : ExitCodes.Diverged;
    }
}
