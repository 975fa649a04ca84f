using IommuConformance.Properties.HarnessTests;
using System.Runtime.Versioning;
using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// <c>replay</c> of files that are not replayable traces: each is one line on stderr naming the file, the other
/// files are still replayed, and the exit is the worst code: 64 for a name that is no trace file (empty, a directory,
/// missing), 3 for one that cannot be read or parsed (whatever the reader throws, e.g. a lone UTF-16 surrogate).
/// </summary>
[SupportedOSPlatform("linux")] // /proc, /sys and Unix file modes
public sealed class ReplayBadFileTests : IDisposable
{
    private readonly string _scratch = TempPath("replay-bad");

    public ReplayBadFileTests() => Directory.CreateDirectory(_scratch);

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static string Green => Path.Combine(SampleFiles.Root, "hot-add-owned-group.json");

    private const string GreenSummary = "conformant (13 steps)";

    /// <summary>A valid one-step trace, with a title, a device name or an extra key as given (JSON-escaped text).</summary>
    private string Trace(string name, string title = "t", string device = "dev0", string key = "bugs")
    {
        var path = Path.Combine(_scratch, name);
        File.WriteAllText(path, $$"""
            {
              "format": "iommu-conformance-trace/1",
              "title": "{{title}}",
              "{{key}}": [],
              "config": { "cpus": 2, "defaultDomain": "DMA" },
              "topology": {
                "iommus": [ { "name": "smmu0", "driver": "smmuv3" } ],
                "devices": [ { "name": "{{device}}", "bus": "pci", "iommu": "smmu0", "group": "g0" } ]
              },
              "steps": [ { "op": "probe", "dev": "{{device}}", "expect": { "errno": "OK" } } ]
            }
            """);
        return path;
    }

    [Fact]
    public void The_fixture_itself_replays_green() =>
        Assert.Equal(0, Run("replay", Trace("good.json")).Code);

    [Fact]
    public void An_empty_name_is_a_usage_error() =>
        Run("replay", "").AssertUsageError("replay", "''", "not a file name");

    [Fact]
    public void A_directory_is_named_as_one() =>
        Run("replay", _scratch).AssertUsageError(_scratch, "is a directory");

    [Fact]
    public void A_missing_file_is_named()
    {
        var missing = Path.Combine(_scratch, "missing.json");
        Run("replay", missing).AssertUsageError(missing, "no such file");
    }

    [Fact]
    public void An_unreadable_file_is_malformed_and_named()
    {
        var file = UnreadableFile();
        var run = Run("replay", file);
        Assert.Equal(3, run.Code);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("malformed trace: ", line);
        Assert.Contains(file, line);
        Assert.Contains("cannot be read", line);
        run.AssertNoStackTrace();
    }

    [Theory]
    [InlineData("title", """\ud800x""")]
    [InlineData("title", """a\udc00""")]
    [InlineData("device", """dev\ud800x""")]
    [InlineData("key", """\ud800x""")]
    public void A_lone_surrogate_escape_is_malformed_not_a_crash(string where, string text)
    {
        var file = where switch
        {
            "title" => Trace("surrogate.json", title: text),
            "device" => Trace("surrogate.json", device: text),
            _ => Trace("surrogate.json", key: text),
        };
        var run = Run("replay", file);
        Assert.Equal(3, run.Code);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith($"malformed trace: {file}", line);
        run.AssertNoStackTrace();
    }

    [Fact]
    public void Replay_goes_on_after_each_bad_file_and_exits_with_the_worst_code()
    {
        var unreadable = UnreadableFile();
        var surrogate = Trace("surrogate.json", title: """\ud800""");
        var missing = Path.Combine(_scratch, "missing.json");

        var malformedOnly = Run("replay", surrogate, Green, unreadable, Green);
        Assert.Equal(3, malformedOnly.Code);
        Assert.Equal(2, CountOf(GreenSummary, malformedOnly.Output));
        Assert.Equal(2, malformedOnly.ErrorLines.Length);

        var withUsage = Run("replay", "", Green, _scratch, missing, surrogate, Green);
        Assert.Equal(64, withUsage.Code);
        Assert.Equal(2, CountOf(GreenSummary, withUsage.Output));
        Assert.Equal(4, withUsage.ErrorLines.Length);
        withUsage.AssertNoStackTrace();
    }

    /// <summary>A file that exists but cannot be read: mode 000, or (for root, whom modes do not bind) /proc/self/mem.</summary>
    private string UnreadableFile()
    {
        var file = Trace("unreadable.json");
        File.SetUnixFileMode(file, UnixFileMode.None);
        try
        {
            File.ReadAllBytes(file);
            return "/proc/self/mem";
        }
        catch (UnauthorizedAccessException)
        {
            return file;
        }
    }

    private static int CountOf(string needle, string text) =>
        (text.Length - text.Replace(needle, "", StringComparison.Ordinal).Length) / needle.Length;
}
