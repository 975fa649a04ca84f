using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using IommuConformance.Contract;
using IommuConformance.KernelBackend;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>kernel-campaign --count N --seed S [--max-steps M] [--machines K] [--out DIR] [--era 6.1]</c>: K random machines from
/// the reachable topologies (1 to 4 groups, some of 2 or 3 devices behind a bridge; <c>--machines 0</c>: the fixed machine),
/// deterministic from the seed, and N random traces of reachable steps over them, in K consecutive blocks: each machine
/// boots once and serves its block (reset and verified between traces), the model judging every step. Each
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
        var machines = new Option<int?>("--machines") { Description = "random machines (0: the fixed machine only; 1 to 64; default count/15, from 1 to 8): each boots once" };
        machines.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 0 or > 64) r.AddError("--machines must be an integer from 0 to 64");
        });
        var output = new Option<string>("--out") { Description = "report folder (default reports)", DefaultValueFactory = _ => "reports" };
        var saveAll = new Option<bool>("--save-all") { Description = "also save every trace run in the guest, as far as it ran (generated ones and shrink candidates), in order, to DIR/kernel-traces/: replayed in that order they repeat the guest's whole history" };
        var era = KernelEraOption.Create();
        var command = new Command("kernel-campaign", "random reachable traces against Linux under QEMU, judged by the model (docs/real-kernel.md)")
        {
            count, seed, maxSteps, machines, output, saveAll, era,
        };
        command.SetAction(parse => Run(parse.GetValue(count), parse.GetValue(seed), parse.GetValue(maxSteps),
            parse.GetValue(machines) ?? Math.Clamp(parse.GetValue(count) / 15, 1, 8), parse.GetValue(output) ?? "reports",
            parse.GetValue(saveAll), KernelEraOption.Get(parse, era), io));
        return command;
    }

    private static int Run(int count, ulong seed, int maxSteps, int machineCount, string outDir, bool saveAll, KernelEra era, RunnerIo io)
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
        var pool = machineCount == 0 ? [KernelBackend.Machine.KernelMachine.Fixed.Topology] : KernelGen.Machines(seed, Math.Min(machineCount, count));
        try
        {
            using var kernel = KernelCall.Open(era, out var reason);
            if (kernel is null)
            {
                io.Error.WriteLine($"kernel back-end unavailable: {reason}");
                return KernelExitCodes.BackendFailed;
            }
            var journaled = 0;
            if (saveAll)
                kernel.Journal = t => File.WriteAllText(Path.Combine(outDir, "kernel-traces", $"{journaled++:D6}.json"), KernelCall.Write(t));
            var stats = pool.Select(_ => new MachineStats()).ToArray();
            var current = -1;
            var block = Stopwatch.StartNew();
            kernel.Booted = g =>
            {
                stats[current].Boot = g.BootTime;
                io.Output.WriteLine($"machine {current}: kernel {g.Release} booted in {g.BootTime.TotalSeconds:0.0} s: {g.Machine.Key}");
            };
            io.Output.WriteLine($"{count} traces over {pool.Count} machine(s), seed {seed}");
            var clock = Stopwatch.StartNew();
            int steps = 0, agreed = 0, unreachable = 0;
            var failures = new List<string>();
            for (var i = 0; i < count; i++)
            {
                var m = (int)((long)i * pool.Count / count); // consecutive blocks: one boot per machine
                if (m != current)
                {
                    if (current >= 0) stats[current].Wall = block.Elapsed;
                    current = m;
                    block.Restart();
                }
                var traceSeed = unchecked(seed * 0x9E3779B97F4A7C15UL + (ulong)i);
                var trace = KernelCall.Generate(traceSeed, pool[m], maxSteps, era);
                var outcome = kernel.Run(trace);
                steps += outcome.Steps;
                stats[m].Traces++;
                stats[m].Steps += outcome.Steps;
                switch (outcome.Verdict)
                {
                    case KernelVerdict.Agreed:
                        agreed++;
                        stats[m].Agreed++;
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
                var line = $"trace {i} (seed {traceSeed}, machine {m}): step {failing} disagreed; shrunk to {shrunk.Steps.Length} steps ({runs} candidate runs): {final.Problem} -> {file}";
                failures.Add(line);
                io.Output.WriteLine(line);
                io.Output.Write(final.Table);
            }
            if (current >= 0) stats[current].Wall = block.Elapsed;
            var elapsed = clock.Elapsed;
            var summary = new StringBuilder();
            summary.AppendLine("# Kernel campaign").AppendLine();
            summary.AppendLine(CultureInfo.InvariantCulture, $"kernel {kernel.Release} (era {KernelEras.Name(era)}), seed {seed}, {count} traces of up to {maxSteps} steps over {pool.Count} machine(s); {kernel.Boots.Count} boot(s), {kernel.Boots.Sum(b => b.Time.TotalSeconds):0.0} s in all.").AppendLine();
            summary.AppendLine("| traces | steps run | agreed | disagreed | unreachable | wall (s) | per trace (ms) | per step (ms) | agent requests |");
            summary.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            summary.AppendLine(CultureInfo.InvariantCulture,
                $"| {count} | {steps} | {agreed} | {failures.Count} | {unreachable} | {elapsed.TotalSeconds:0.0} | {elapsed.TotalMilliseconds / count:0} | {elapsed.TotalMilliseconds / Math.Max(steps, 1):0.0} | {kernel.Requests} |");
            summary.AppendLine().AppendLine("| machine | QEMU devices | groups (sizes) | boot (s) | traces | steps | agreed | per trace without the boot (ms) |");
            summary.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|");
            for (var m = 0; m < pool.Count; m++)
            {
                var machine = KernelBackend.Machine.KernelMachine.From(KernelBackend.Machine.KernelMachine.Config, pool[m], out _)!;
                var sizes = string.Join(" ", pool[m].Devices.GroupBy(d => d.Group).Select(g => g.Count()));
                var s = stats[m];
                var perTrace = s.Traces == 0 ? 0 : (s.Wall - s.Boot).TotalMilliseconds / s.Traces;
                summary.AppendLine(CultureInfo.InvariantCulture,
                    $"| {m} | `{machine.Key}` | {sizes} | {s.Boot.TotalSeconds:0.0} | {s.Traces} | {s.Steps} | {s.Agreed} | {perTrace:0} |");
            }
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

/// <summary>One campaign machine's figures: its boot, and its block of traces.</summary>
internal sealed class MachineStats
{
    public TimeSpan Boot { get; set; }
    public TimeSpan Wall { get; set; }
    public int Traces { get; set; }
    public int Steps { get; set; }
    public int Agreed { get; set; }
}
