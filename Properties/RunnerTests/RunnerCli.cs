using IommuConformance.Runner;
using Xunit;

namespace IommuConformance.Properties.RunnerTests;

/// <summary>One in-process run of the command line, with captured writers and (optionally) a private environment.</summary>
internal sealed record CliRun(int Code, string Output, string Errors)
{
    /// <summary>Non-empty lines written to the error writer.</summary>
    public string[] ErrorLines => Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// A usage error as the command line must give it: exit 64, nothing on the output (no work started), one line on
    /// the error writer that contains every one of <paramref name="named"/>, and no stack trace.
    /// </summary>
    public void AssertUsageError(params string[] named)
    {
        Assert.True(Code == 64, $"exit {Code}, expected 64; errors: {Errors}; output: {Output}");
        Assert.Equal("", Output);
        var line = Assert.Single(ErrorLines);
        foreach (var name in named) Assert.Contains(name, line);
        AssertNoStackTrace();
    }

    public void AssertNoStackTrace()
    {
        Assert.DoesNotContain("   at ", Errors);
        Assert.DoesNotContain("Unhandled exception", Errors);
    }
}

internal static class RunnerCli
{
    /// <summary>An environment with none of the suite's variables set.</summary>
    public static readonly Func<string, string?> NoVariables = _ => null;

    public static CliRun Run(params string[] args) => Run(NoVariables, args);

    public static CliRun Run(Func<string, string?> environment, params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = RunnerApp.Run(args, output, errors, environment);
        return new CliRun(code, output.ToString(), errors.ToString());
    }

    public static Func<string, string?> With(string variable, string value) => name => name == variable ? value : null;

    /// <summary>A fresh directory name under the temp folder (not created).</summary>
    public static string TempPath(string what) => Path.Combine(Path.GetTempPath(), $"iommu-{what}-{Guid.NewGuid():N}");
}
