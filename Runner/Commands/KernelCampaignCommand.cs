using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using IommuConformance.Contract;
using IommuConformance.KernelBackend;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>kernel-campaign --count N --seed S [--max-steps M] [--out DIR] [--era 6.1]</c>: N random traces of reachable steps on the
/// fixed machine, all on one booted guest (reset and verified between traces), the model judging every step. Each
/// disagreement is shrunk by re-running candidates in the guest and saved with the model's expects to
/// <c>DIR/kernel-failures/</c>; the figures go to <c>DIR/kernel-campaign.md</c>. Exit 0 all agreed, 1 a disagreement,
/// 6 the kernel cannot be run.
/// </summary>
internal static class KernelCampaignCommand
{
    public static Command Create(RunnerIo io)
    {
        var count = new Option<int>("--count") { Description = "traces to run (1 to 100,000; default 200)", DefaultValueFactory = _ => 200 };
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100_000) r.AddError("--count must be an integer from 1 to 100,000");
        });
        var seed = new Option<ulong>("--seed") { Description = "the campaign's seed (unsigned 64-bit; default 1)", DefaultValueFactory = _ => 1UL };
        var maxSteps = new Option<int>("--max-steps") { Description = "longest trace (4 to 1,000; default 40)", DefaultValueFactory = _ => 40 };
        maxSteps.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 4 or > 1000) r.AddError("--max-steps must be an integer from 4 to 1,000");
        });
        var output = new Option<string>("--out") { Description = "report folder (default reports)", DefaultValueFactory = _ => "reports" };
        var saveAll = new Option<bool>("--save-all") { Description = "also save every trace run in the guest, as far as it ran (generated ones and shrink candidates), in order, to DIR/kernel-traces/: replayed in that order they repeat the guest's whole history" };
        var era = KernelEraOption.Create();
        var command = new Command("kernel-campaign", "random reachable traces against Linux under QEMU, judged by the model (docs/real-kernel.md)")
        {
            count, seed, maxSteps, output, saveAll, era,
        };
        command.SetAction(parse => Run(parse.GetValue(count), parse.GetValue(seed), parse.GetValue(maxSteps), parse.GetValue(output) ?? "reports",
            parse.GetValue(saveAll), KernelEraOption.Get(parse, era), io));
        return command;
    }

    private static int Run(int count, ulong seed, int maxSteps, string outDir, bool saveAll, KernelEra era, RunnerIo io)
    {
        try
        {
            Directory.CreateDirectory(Path.Combine(outDir, "kernel-failures"));
            if (saveAll) Directory.CreateDirectory(Path.Combine(outDir, "kernel-traces"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return io.Usage($"kernel-campaign: --out '{outDir}' is not a writable folder: {e.Message}");
        }
        try
        {
            using var kernel = KernelCall.Boot(era, out var reason);
            if (kernel is null)
            {
                io.Error.WriteLine($"kernel back-end unavailable: {reason}");
                return KernelExitCodes.BackendFailed;
            }
            var journaled = 0;
            if (saveAll)
                kernel.Journal = t => File.WriteAllText(Path.Combine(outDir, "kernel-traces", $"{journaled++:D6}.json"), KernelCall.Write(t));
            io.Output.WriteLine($"kernel {kernel.Release} (era {KernelEras.Name(era)}) booted in {kernel.BootTime.TotalSeconds:0.0} s; {count} traces, seed {seed}");
            var clock = Stopwatch.StartNew();
            int steps = 0, agreed = 0, unreachable = 0;
            var failures = new List<string>();
            for (var i = 0; i < count; i++)
            {
                var traceSeed = unchecked(seed * 0x9E3779B97F4A7C15UL + (ulong)i);
                var trace = KernelCall.Generate(traceSeed, maxSteps, era);
                var outcome = kernel.Run(trace);
                steps += outcome.Steps;
                switch (outcome.Verdict)
                {
                    case KernelVerdict.Agreed:
                        agreed++;
                        continue;
                    case KernelVerdict.Unreachable:
                        unreachable++; // the generator drew a step Reach refuses: a back-end bug, counted and shown
                        io.Output.WriteLine($"trace {i} (seed {traceSeed}): {outcome.Problem}");
                        continue;
                }
                var failing = outcome.Report.Steps.Length - 1;
                var (shrunk, runs) = kernel.Shrink(trace, failing);
                var final = kernel.Run(shrunk);
                var file = Path.Combine(outDir, "kernel-failures", $"kernel-{traceSeed}.json");
                File.WriteAllText(file, KernelCall.Reproducer(final.Report));
                var line = $"trace {i} (seed {traceSeed}): step {failing} disagreed; shrunk to {shrunk.Steps.Length} steps ({runs} candidate runs): {final.Problem} -> {file}";
                failures.Add(line);
                io.Output.WriteLine(line);
                io.Output.Write(final.Table);
            }
            var elapsed = clock.Elapsed;
            var summary = new StringBuilder();
            summary.AppendLine("# Kernel campaign").AppendLine();
            summary.AppendLine(CultureInfo.InvariantCulture, $"kernel {kernel.Release} (era {KernelEras.Name(era)}), seed {seed}, {count} traces of up to {maxSteps} steps; boot {kernel.BootTime.TotalSeconds:0.0} s.").AppendLine();
            summary.AppendLine("| traces | steps run | agreed | disagreed | unreachable | wall (s) | per trace (ms) | per step (ms) | agent requests |");
            summary.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            summary.AppendLine(CultureInfo.InvariantCulture,
                $"| {count} | {steps} | {agreed} | {failures.Count} | {unreachable} | {elapsed.TotalSeconds:0.0} | {elapsed.TotalMilliseconds / count:0} | {elapsed.TotalMilliseconds / Math.Max(steps, 1):0.0} | {kernel.Requests} |");
            if (failures.Count > 0)
            {
                summary.AppendLine().AppendLine("## Disagreements").AppendLine();
                foreach (var f in failures) summary.AppendLine($"- {f}");
            }
            File.WriteAllText(Path.Combine(outDir, "kernel-campaign.md"), summary.ToString());
            io.Output.Write(summary.ToString());
            return failures.Count > 0 || unreachable > 0 ? ExitCodes.Diverged : ExitCodes.Conformant;
        }
        catch (KernelBackendException e)
        {
            io.Error.WriteLine($"kernel back-end failed: {RunnerIo.OneLine(e.Message)}");
            return KernelExitCodes.BackendFailed;
        }
    }
}
