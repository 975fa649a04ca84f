using System.Runtime.Versioning;
using Xunit;
using static IommuConformance.Properties.RunnerTests.RunnerCli;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>
/// <c>--out DIR</c> is checked before any work: an existing file, a path that cannot be created, a directory that
/// cannot be written are usage errors naming <c>--out</c>. Reports are written atomically (no temporary file left).
/// </summary>
[SupportedOSPlatform("linux")] // /proc, /sys and Unix file modes
public sealed class OutOptionTests : IDisposable
{
    private readonly string _scratch = TempPath("out-option");

    public OutOptionTests() => Directory.CreateDirectory(_scratch);

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    public static TheoryData<string> Commands => new() { "campaign", "hunt" };

    [Theory]
    [MemberData(nameof(Commands))]
    public void An_existing_file_is_refused(string command)
    {
        var file = Path.Combine(_scratch, "a-file");
        File.WriteAllText(file, "keep me");
        Run(command, "--out", file).AssertUsageError("--out", file, "is an existing file");
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Theory]
    [InlineData("campaign", "/proc/iommu-conformance-x")]
    [InlineData("hunt", "/proc/iommu-conformance-x")]
    [InlineData("campaign", "/sys/iommu-conformance-x")]
    public void A_path_that_cannot_be_created_is_refused(string command, string path) =>
        Run(command, "--out", path).AssertUsageError("--out", path, "not a writable directory");

    [Fact]
    public void A_path_under_a_file_is_refused()
    {
        var file = Path.Combine(_scratch, "a-file");
        File.WriteAllText(file, "");
        var path = Path.Combine(file, "reports");
        Run("campaign", "--out", path).AssertUsageError("--out", path, "not a writable directory");
    }

    [Fact]
    public void A_read_only_directory_is_refused_when_permissions_bind()
    {
        var dir = Path.Combine(_scratch, "read-only");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            if (CanWriteIn(dir)) return; // root: mode bits do not bind; the /proc and /sys cases above cover it
            Run("campaign", "--out", dir).AssertUsageError("--out", dir, "not a writable directory");
        }
        finally
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void A_report_name_taken_by_a_directory_is_refused()
    {
        Directory.CreateDirectory(Path.Combine(_scratch, "campaign.md"));
        Run("campaign", "--out", _scratch).AssertUsageError("--out", "'campaign.md' there is a directory");
    }

    [Fact]
    public void A_failures_name_taken_by_a_file_is_refused()
    {
        File.WriteAllText(Path.Combine(_scratch, "failures"), "");
        Run("hunt", "--out", _scratch).AssertUsageError("--out", "'failures' there is a file");
    }

    [Fact]
    public void A_missing_directory_is_created_and_the_report_replaced_whole()
    {
        var dir = Path.Combine(_scratch, "new", "nested");
        Assert.Equal(0, Run("campaign", "--max-test", "1", "--out", dir).Code);
        var report = Path.Combine(dir, "campaign.md");
        File.WriteAllText(report, "old");
        var run = Run("campaign", "--max-test", "2", "--out", dir);
        Assert.Equal(0, run.Code);
        Assert.Contains("Verdict: conformant", File.ReadAllText(report));
        Assert.Equal([Path.Combine(dir, "campaign.json"), report], Directory.GetFileSystemEntries(dir).Order(StringComparer.Ordinal));
    }

    private static bool CanWriteIn(string dir)
    {
        try
        {
            var probe = Path.Combine(dir, "probe");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
