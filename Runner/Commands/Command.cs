namespace IommuConformance.Runner.Commands;

/// <summary>One sub-command: its name, a usage line, a one-line summary, and what it does with its arguments.</summary>
public sealed record Command(string Name, string Usage, string Summary, Func<string[], TextWriter, TextWriter, int> Run);
