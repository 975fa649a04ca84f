using IommuConformance.Contract;
using IommuConformance.KernelBackend;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>replay --backend kernel FILE...</c>: every trace, in order, on a guest of its machine (one boot serves consecutive
/// traces of one machine; another machine shuts the guest down and boots its own), the model judging the kernel's answers.
/// Exit codes as <c>replay</c>, plus 5 (a step or machine the kernel back-end cannot express) and 6 (the kernel cannot be
/// run: setup missing, QEMU failing, the guest dead); every such failure is one line naming the file and step.
/// </summary>
internal static class KernelReplay
{
    public static int Run(string[] files, KernelEra era, RunnerIo io)
    {
        var traces = new List<(string File, LoadedTrace Trace)>();
        var worst = ExitCodes.Conformant;
        foreach (var file in files)
        {
            if (file.Length == 0 || Directory.Exists(file) || !File.Exists(file))
            {
                worst = Math.Max(worst, io.Usage($"replay: '{file}' is not a trace file"));
                continue;
            }
            try
            {
                var trace = ReplayCall.Read(file);
                if (KernelCall.MachineMismatch(trace) is { } why)
                {
                    io.Error.WriteLine($"unreachable: {file}: the kernel back-end cannot boot this topology (docs/real-kernel.md): {why}");
                    worst = Math.Max(worst, KernelExitCodes.Unreachable);
                    continue;
                }
                if (trace.Trace.Config.Era != era)
                {
                    io.Error.WriteLine($"unreachable: {file}: the trace is of era {KernelEras.Name(trace.Trace.Config.Era)}, the run of era {KernelEras.Name(era)} (--era)");
                    worst = Math.Max(worst, KernelExitCodes.Unreachable);
                    continue;
                }
                traces.Add((file, trace));
            }
            catch (Exception e)
            {
                io.Error.WriteLine($"malformed trace: {RunnerIo.OneLine(ReplayCall.IsFormatError(e) ? e.Message : $"{file}: {e.Message}")}");
                worst = Math.Max(worst, ExitCodes.Malformed);
            }
        }
        if (traces.Count == 0) return worst;
        try
        {
            using var kernel = KernelCall.Open(era, out var reason);
            if (kernel is null)
            {
                io.Error.WriteLine($"kernel back-end unavailable: {reason}");
                return Math.Max(worst, KernelExitCodes.BackendFailed);
            }
            kernel.Booted = g => io.Output.WriteLine($"kernel {g.Release} booted in {g.BootTime.TotalSeconds:0.0} s: {g.Machine.Key}");
            foreach (var (file, trace) in traces)
            {
                if (traces.Count > 1) io.Output.WriteLine($"== {file}");
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var outcome = kernel.Run(trace);
                if (trace.Title.Length > 0) io.Output.WriteLine(trace.Title);
                io.Output.Write(outcome.Table);
                io.Output.WriteLine($"{outcome.Summary} (kernel, {clock.ElapsedMilliseconds} ms)");
                worst = Math.Max(worst, Report(file, outcome, io));
            }
            return worst;
        }
        catch (KernelBackendException e)
        {
            io.Error.WriteLine($"kernel back-end failed: {RunnerIo.OneLine(e.Message)}");
            return Math.Max(worst, KernelExitCodes.BackendFailed);
        }
    }

    private static int Report(string file, KernelOutcome outcome, RunnerIo io)
    {
        switch (outcome.Verdict)
        {
            case KernelVerdict.Agreed:
                return ExitCodes.Conformant;
            case KernelVerdict.Unreachable:
                io.Error.WriteLine($"unreachable: {file}: {RunnerIo.OneLine(outcome.Problem ?? "")}");
                return KernelExitCodes.Unreachable;
            default:
                io.Output.WriteLine($"problem: {outcome.Problem}");
                return outcome.Verdict == KernelVerdict.ExpectMismatch ? ExitCodes.ExpectMismatch : ExitCodes.Diverged;
        }
    }
}
