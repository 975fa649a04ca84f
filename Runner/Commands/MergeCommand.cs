using System.CommandLine;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// <c>merge FILE... [--out DIR]</c>: combines the JSON results of all shards of one campaign (<c>campaign --shard
/// I/N</c>) into the whole campaign's DIR/campaign.json, DIR/campaign.md and failures, with the figures of the
/// unsharded run of the same seed. Everything is read and checked before anything is written: a file that is no
/// campaign result (or of another format version) exits 3; shards of different campaigns, a shard given twice or a
/// missing one exit 64. Exit 0 conformant, 1 any failure.
/// </summary>
internal static class MergeCommand
{
    public static Command Create(RunnerIo io)
    {
        var files = new Argument<string[]>("FILE")
        {
            Arity = ArgumentArity.OneOrMore,
            Description = "shard results (campaign-IofN.json), one per shard",
        };
        var output = new Option<string>("--out")
        {
            HelpName = "DIR",
            Description = "directory for the merged report and failures/ (created if missing; must be writable)",
            DefaultValueFactory = _ => "reports",
        };
        var command = new Command("merge", "combine the shard results of one campaign into its report (exit 0 conformant, 1 any failure)")
        {
            files, output,
        };
        command.SetAction(parse => Run(parse.GetValue(files) ?? [], parse.GetValue(output) ?? "reports", io));
        return command;
    }

    private static int Run(string[] files, string dir, RunnerIo io)
    {
        var parts = new List<(string, CampaignRun)>();
        foreach (var file in files)
        {
            if (Directory.Exists(file)) return io.Usage($"merge: '{file}' is a directory, not a campaign result");
            if (!File.Exists(file)) return io.Usage($"merge: '{file}': no such file");
            try
            {
                parts.Add((file, CampaignCall.Read(file)));
            }
            catch (Exception e) when (CampaignCall.IsFormatError(e))
            {
                io.Error.WriteLine($"malformed campaign result: {RunnerIo.OneLine(e.Message)}");
                return ExitCodes.Malformed;
            }
        }
        CampaignRun merged;
        try
        {
            merged = CampaignCall.Merge(parts);
        }
        catch (Exception e) when (CampaignCall.IsMergeError(e))
        {
            return io.Usage($"merge: {e.Message}");
        }
        var (report, result) = CampaignCommand.FileNames(null);
        if (!OutDirectory.TryPrepare(dir, [report, result], out var problem)) return io.Usage(problem);
        io.Output.WriteLine($"merged {parts.Count} shard(s) of campaign {merged.Replay}");
        return CampaignFiles.Write(merged, dir, io);
    }
}
