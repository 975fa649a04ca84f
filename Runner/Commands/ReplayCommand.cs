using System.CommandLine;
using System.CommandLine.Parsing;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>replay FILE...</c>: reads each trace, runs it on model and implementation, prints one row per step and the
/// problem, and exits with the worst code over all files. A file that cannot be replayed is reported on one line and
/// the others are still replayed: not a trace file (empty name, a directory, no such file) 64; unreadable or
/// malformed (any failure while reading or parsing) 3; valid but naming a driver or era the emulated implementation
/// does not have 5; a failure while running it is the suite's own, 4.
/// <c>--step N</c> stops after step N and prints model and implementation state side by side (a trace shorter than N
/// is a usage error, 64); <c>--bug NAME</c> switches a seeded bug on as if the trace listed it.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(RunnerIo io)
    {
        var files = new Argument<string[]>("FILE")
        {
            Arity = ArgumentArity.OneOrMore,
            Description = "trace files (docs/trace-format.md)",
        };
        files.Validators.Add(RejectUnknownOptions);
        var backend = KernelBackendOption.Create();
        var era = KernelEraOption.Create();
        var step = new Option<int?>("--step")
        {
            HelpName = "N",
            Description = "stop after step N (1 = the first) and print both states side by side",
            CustomParser = ParseStep,
        };
        var bugs = BugOption.Create("switch a seeded bug on as well as the trace's own (repeatable); 'bugs' lists them");
        var command = new Command("replay", "run saved traces on model and implementation, one row per step (exit 0/1/2/3/5)") { files, backend, era, step, bugs };
        command.SetAction(parse =>
        {
            var ask = new ReplayAsk(parse.GetValue(step), parse.GetValue(bugs) ?? []);
            var kernelEra = KernelEraOption.Get(parse, era);
            if (!KernelBackendOption.IsKernel(parse, backend))
                return kernelEra != Contract.KernelEra.V7_0
                    ? io.Usage("replay: --era 6.1 is for --backend kernel: the emulated implementation follows the contract's 7.0 era only")
                    : Run(parse.GetValue(files) ?? [], ask, io);
            // The kernel shows no internal state and runs no seeded bugs.
            if (ask.Step is not null || ask.Bugs.Count > 0) return io.Usage("replay: --step and --bug apply to the implementation back-end, not --backend kernel");
            return KernelReplay.Run(parse.GetValue(files) ?? [], kernelEra, io);
        });
        return command;
    }

    /// <summary>What <c>--step</c> and <c>--bug</c> ask of every file.</summary>
    private sealed record ReplayAsk(int? Step, IReadOnlyCollection<string> Bugs);

    private static int? ParseStep(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1)
            return n;
        result.AddError($"--step must be a step number from 1, got '{text}'");
        return null;
    }

    private static int Run(string[] files, ReplayAsk ask, RunnerIo io)
    {
        var worst = ExitCodes.Conformant;
        foreach (var file in files)
        {
            if (files.Length > 1) io.Output.WriteLine($"== {file}");
            worst = Math.Max(worst, ReplayOne(file, ask, io));
            if (files.Length > 1) io.Output.WriteLine();
        }
        return worst;
    }

    /// <summary>Replays one file; answers its exit code.</summary>
    private static int ReplayOne(string file, ReplayAsk ask, RunnerIo io)
    {
        if (file.Length == 0) return io.Usage("replay: '' is not a file name (an empty argument)");
        if (Directory.Exists(file)) return io.Usage($"replay: '{file}' is a directory, not a trace file");
        if (!File.Exists(file)) return io.Usage($"replay: '{file}': no such file");

        LoadedTrace trace;
        try
        {
            trace = ReplayCall.Read(file);
        }
        catch (Exception e)
        {
            // The Harness names file, step and field in its own format errors; anything else thrown while reading
            // (an I/O error, a JSON reader's own exception) is as malformed, named by the file.
            var message = ReplayCall.IsFormatError(e) ? e.Message : $"{file}: cannot be read or parsed: {e.GetType().Name}: {e.Message}";
            io.Error.WriteLine($"malformed trace: {RunnerIo.OneLine(message)}");
            return ExitCodes.Malformed;
        }
        if (ReplayCall.CannotRun(trace) is { } why)
        {
            io.Error.WriteLine($"replay: '{file}' cannot run on the emulated implementation: {why}");
            return ExitCodes.Unsupported;
        }
        if (ask.Step is { } last && last > trace.Steps)
            return io.Usage($"replay: --step {last} is beyond the {trace.Steps} step(s) of '{file}'");
        trace = trace.WithBugs(ask.Bugs);
        if (ask.Step is { } through) trace = trace.Through(through);

        ReplayOutcome outcome;
        try
        {
            outcome = ReplayCall.Run(trace, states: ask.Step is not null);
        }
        catch (Exception e)
        {
            return io.InternalError($"while replaying {file}", e);
        }

        if (trace.Title.Length > 0) io.Output.WriteLine(trace.Title);
        if (trace.Bugs.Count > 0) io.Output.WriteLine($"bugs: {string.Join(", ", trace.Bugs)}");
        io.Output.Write(outcome.Table);
        io.Output.WriteLine(outcome.Summary);
        if (outcome.Problem is not null) io.Output.WriteLine($"problem: {outcome.Problem}");
        if (outcome.States is { } states)
        {
            io.Output.WriteLine();
            io.Output.WriteLine(ask.Step is { } n && outcome.Verdict == ReplayVerdict.Conformant
                ? $"state after step {n}:" : "state where the run stopped:");
            io.Output.Write(states);
        }
        return outcome.Verdict switch
        {
            ReplayVerdict.Conformant => ExitCodes.Conformant,
            ReplayVerdict.ExpectMismatch => ExitCodes.ExpectMismatch,
            _ => ExitCodes.Diverged,
        };
    }

    /// <summary>
    /// System.CommandLine hands an unknown <c>--option</c> to a variadic argument; one that is not an existing file is
    /// taken for what it looks like. (A trace whose name starts with '-' can be given as <c>./-name</c>.)
    /// </summary>
    private static void RejectUnknownOptions(ArgumentResult result)
    {
        foreach (var token in result.Tokens)
            if (token.Value.StartsWith('-') && token.Value.Length > 1 && !File.Exists(token.Value))
                result.AddError($"Unrecognized option '{token.Value}' for command 'replay' (a file named so: ./{token.Value})");
    }
}
