using System.CommandLine;
using System.CommandLine.Parsing;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>replay FILE...</c>: reads each trace, runs it on model and implementation, prints one row per step and the
/// problem, and exits with the worst code over all files. A file that cannot be replayed is reported on one line and
/// the others are still replayed: not a trace file (empty name, a directory, no such file) 64; unreadable or
/// malformed (any failure while reading or parsing) 3; a failure while running it is the suite's own, 4.
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
        var command = new Command("replay", "run saved traces on model and implementation, one row per step (exit 0/1/2/3)") { files, backend, era };
        command.SetAction(parse => KernelBackendOption.IsKernel(parse, backend)
            ? KernelReplay.Run(parse.GetValue(files) ?? [], KernelEraOption.Get(parse, era), io)
            : KernelEraOption.Get(parse, era) != Contract.KernelEra.V7_0
                ? io.Usage("replay: --era 6.1 is for --backend kernel: the emulated implementation follows the contract's 7.0 era only")
                : Run(parse.GetValue(files) ?? [], io));
        return command;
    }

    private static int Run(string[] files, RunnerIo io)
    {
        var worst = ExitCodes.Conformant;
        foreach (var file in files)
        {
            if (files.Length > 1) io.Output.WriteLine($"== {file}");
            worst = Math.Max(worst, ReplayOne(file, io));
            if (files.Length > 1) io.Output.WriteLine();
        }
        return worst;
    }

    /// <summary>Replays one file; answers its exit code.</summary>
    private static int ReplayOne(string file, RunnerIo io)
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

        ReplayOutcome outcome;
        try
        {
            outcome = ReplayCall.Run(trace);
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
