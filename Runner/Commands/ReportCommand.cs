using System.CommandLine;

namespace IommuConformance.Runner.Commands;

/// <summary>Placeholder, filled in by the conformance report step.</summary>
internal static class ReportCommand
{
    public static Command Create(RunnerIo io)
    {
        var command = new Command("report", "write DIR/conformance.html and .md from DIR/campaign.json, hunt.json and coverage/");
        command.SetAction(_ => io.Usage("report: not yet"));
        return command;
    }
}
