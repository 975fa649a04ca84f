namespace IommuConformance.Runner.Commands;

/// <summary>Exit statuses (spec §5, plus the two the spec leaves open). With several traces the worst (highest) wins.</summary>
public static class ExitCodes
{
    public const int Conformant = 0;
    public const int Diverged = 1;
    public const int ExpectMismatch = 2;
    public const int Malformed = 3;
    /// <summary>The harness or the model itself failed (a bug of the suite, not of the implementation).</summary>
    public const int InternalError = 4;
    /// <summary>A valid trace the chosen back-end cannot run (a driver or era it does not have, a step it cannot express).</summary>
    public const int Unsupported = 5;
    /// <summary>Bad command line (BSD EX_USAGE).</summary>
    public const int Usage = 64;
}
