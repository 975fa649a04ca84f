using System.Diagnostics.CodeAnalysis;
using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Core.Checking;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>What a campaign command asked for, once its options are checked.</summary>
internal sealed record CampaignRequest(CheckSettings Settings, bool CountGiven, TimeSpan? Duration, string? Shard, IReadOnlyList<string> Bugs);

/// <summary>A campaign's progress, as the Runner shows it.</summary>
internal sealed record CampaignTick(long Traces, long Steps, long Failures, TimeSpan Elapsed, long? Expected, TimeSpan? Box);

/// <summary>One shrunk failure of a campaign: its file name stem, the replayable JSON, and its printed explanation when this process shrank it.</summary>
internal sealed record CampaignFailure(string Name, long TraceNumber, int Steps, string Json, ShrunkFailure? Shrunk);

/// <summary>A campaign result (run here, or read from a shard's JSON, or merged), opaque to the commands.</summary>
internal sealed class CampaignRun
{
    private readonly CampaignResult _result;

    internal CampaignRun(CampaignResult result) => _result = result;

    internal CampaignResult Result => _result;

    public bool Failed => _result.Failed;
    public long Traces => _result.Traces;
    public long Steps => _result.Steps;
    public int FailingTraces => _result.Failing.Length;
    public TimeSpan Elapsed => _result.Elapsed;
    public double StepsPerSecond => _result.StepsPerSecond;
    public string Replay => _result.Replay;

    /// <summary>The shard this run was (null: the whole campaign, or a merge of all its shards).</summary>
    public string? Shard => _result.Shards.Length == 1 && !_result.Shards[0].IsWhole ? _result.Shards[0].ToString() : null;

    public string Markdown => CampaignReport.ToMarkdown(_result);

    public string Json => CampaignJson.Write(_result);

    public IReadOnlyList<CampaignFailure> Failures =>
        [.. _result.Shrunk.Select(s => new CampaignFailure($"campaign-{_result.Plan.Seed}-t{s.TraceNumber}", s.TraceNumber, s.Steps, s.Json,
            s.Report is { } report ? new ShrunkFailure(report) : null))];
}

internal static class CampaignCall
{
    public const string ShardFormat = Shard.Format;

    /// <summary>Parses <c>--shard I/N</c>.</summary>
    public static bool TryParseShard(string text, out (int Index, int Count) shard, [NotNullWhen(false)] out string? problem)
    {
        var ok = Shard.TryParse(text, out var parsed, out problem);
        shard = ok ? (parsed!.Index, parsed.Count) : default;
        return ok;
    }

    public static CampaignRun Run(CampaignRequest request, Action<CampaignTick> progress)
    {
        var shard = request.Shard is { } text && Shard.TryParse(text, out var s, out _) ? s : Shard.Whole;
        var settings = request.Settings;
        var plan = new CampaignPlan(settings.Seed, settings.Gamma,
            request.Duration is null || request.CountGiven ? settings.MaxTest : null, request.Duration, shard, [.. request.Bugs],
            settings.EndSize);
        var result = Campaign.Run(plan, p => progress(new CampaignTick(p.Traces, p.Steps, p.Failures, p.Elapsed, p.Expected, p.Duration)));
        return new CampaignRun(result);
    }

    /// <summary>Reads a shard's result file; throws on anything wrong (<see cref="IsFormatError"/>).</summary>
    public static CampaignRun Read(string file) => new(CampaignJson.ReadFile(file));

    public static bool IsFormatError(Exception e) => e is CampaignFormatException;

    /// <summary>The whole campaign from all its shards; throws when they do not make one (<see cref="IsMergeError"/>).</summary>
    public static CampaignRun Merge(IReadOnlyList<(string Name, CampaignRun Run)> parts) =>
        new(CampaignMerge.Merge([.. parts.Select(p => (p.Name, p.Run.Result))]));

    public static bool IsMergeError(Exception e) => e is CampaignMergeException;
}
