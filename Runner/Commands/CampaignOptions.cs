using System.CommandLine;
using System.CommandLine.Parsing;
using IommuConformance.Runner.HarnessCalls;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// The options only <c>campaign</c> takes: <c>--duration D</c> (a time box; with <c>--max-test</c> too, whichever
/// ends first) and <c>--shard I/N</c> (the traces k with k mod N = I − 1). Checked while parsing.
/// </summary>
internal sealed class CampaignOptions
{
    public CampaignOptions()
    {
        Duration = new Option<TimeSpan?>("--duration")
        {
            HelpName = "D",
            Description = $"time box of this run: {DurationText.Format}; without --max-test the campaign runs until then",
            CustomParser = ParseDuration,
        };
        Shard = new Option<string?>("--shard")
        {
            HelpName = "I/N",
            Description = $"run part I of N of the campaign ({CampaignCall.ShardFormat}); 'merge' combines the parts",
        };
        Shard.Validators.Add(ValidateShard);
    }

    public Option<TimeSpan?> Duration { get; }
    public Option<string?> Shard { get; }

    public void AddTo(Command command)
    {
        command.Options.Add(Duration);
        command.Options.Add(Shard);
    }

    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (DurationText.TryParse(text, out var duration, out var problem)) return duration;
        result.AddError($"--duration {problem}");
        return null;
    }

    private static void ValidateShard(OptionResult result)
    {
        foreach (var token in result.Tokens)
            if (!CampaignCall.TryParseShard(token.Value, out _, out var problem))
                result.AddError($"--shard {problem}");
    }
}
