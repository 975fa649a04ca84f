using System.Diagnostics.CodeAnalysis;

namespace IommuConformance.Runner.Commands;

/// <summary>
/// The <c>--out</c> directory: checked (created, proved writable) before any work, and written atomically, so that a
/// bad path is a usage error up front and a report file is either the old one or the whole new one.
/// </summary>
internal static class OutDirectory
{
    public const string FailuresFolder = "failures";

    /// <summary>
    /// Creates <paramref name="dir"/> if missing and proves it (and its failures/ folder, if there) writable;
    /// <paramref name="files"/> are the report files the command will write there, which must not be directories.
    /// </summary>
    public static bool TryPrepare(string dir, IReadOnlyList<string> files, [NotNullWhen(false)] out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(dir)) problem = $"--out must name a directory, got '{dir}'";
        else if (File.Exists(dir)) problem = $"--out '{dir}' is an existing file, not a directory";
        else if (!TryProbe(dir, create: true, out var why)) problem = $"--out '{dir}' is not a writable directory: {why}";
        else if (files.FirstOrDefault(f => Directory.Exists(Path.Combine(dir, f))) is { } blocked)
            problem = $"--out '{dir}': '{blocked}' there is a directory, not a file";
        else if (File.Exists(Path.Combine(dir, FailuresFolder)))
            problem = $"--out '{dir}': '{FailuresFolder}' there is a file, not a directory";
        else if (Directory.Exists(Path.Combine(dir, FailuresFolder)) && !TryProbe(Path.Combine(dir, FailuresFolder), create: false, out why))
            problem = $"--out '{dir}': '{FailuresFolder}' there is not writable: {why}";
        return problem is null;
    }

    /// <summary>Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/>, then moves it over.</summary>
    public static void WriteAtomically(string path, string text) => WriteAtomically(path, temp => File.WriteAllText(temp, text));

    /// <summary>The same for bytes (charts).</summary>
    public static void WriteAtomically(string path, byte[] bytes) => WriteAtomically(path, temp => File.WriteAllBytes(temp, bytes));

    private static void WriteAtomically(string path, Action<string> write)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            write(temp);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static bool TryProbe(string dir, bool create, [NotNullWhen(false)] out string? why)
    {
        var probe = Path.Combine(dir, $".write-test-{Guid.NewGuid():N}.tmp");
        try
        {
            if (create) Directory.CreateDirectory(dir);
            File.WriteAllText(probe, "");
            File.Delete(probe);
            why = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            TryDelete(probe);
            why = RunnerIo.OneLine(e.Message);
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            // Best effort: the probe or temporary file could not be made in the first place.
        }
    }
}
