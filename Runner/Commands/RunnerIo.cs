namespace IommuConformance.Runner.Commands;

/// <summary>Where a command writes and what environment it reads: the real console and process, or a test's writers and lookup.</summary>
internal sealed record RunnerIo(TextWriter Output, TextWriter Error, Func<string, string?> Environment)
{
    /// <summary>Set to <c>1</c> to print the stack trace of an internal error.</summary>
    public const string DebugVariable = "IOMMU_DEBUG";

    public bool Debug => Environment(DebugVariable) == "1";

    /// <summary>A usage error: one line on stderr; answers <see cref="ExitCodes.Usage"/>.</summary>
    public int Usage(string message)
    {
        Error.WriteLine($"error: {OneLine(message)}");
        return ExitCodes.Usage;
    }

    /// <summary>
    /// A failure of the suite itself: one line with the exception's type and message (and the stack trace only when
    /// <c>IOMMU_DEBUG=1</c>); answers <see cref="ExitCodes.InternalError"/>.
    /// </summary>
    public int InternalError(string what, Exception e)
    {
        Error.WriteLine($"internal error{(what.Length > 0 ? " " + what : "")}: {e.GetType().FullName}: {OneLine(e.Message)}"
            + (Debug ? "" : $" (set {DebugVariable}=1 for the stack trace)"));
        if (Debug) Error.WriteLine(e);
        return ExitCodes.InternalError;
    }

    /// <summary>A message on one line: line breaks become spaces.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
