using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Spectre.Console;

namespace IommuConformance.Runner.Progress;

/// <summary>
/// Live progress of a long command. On an interactive terminal (the process's own console, not redirected, and
/// Spectre.Console's profile says so) a Spectre.Console progress bar with cases, steps, steps/s, failures and ETA;
/// otherwise (CI logs, a redirected output, a test's writer) a plain line every <see cref="PlainEvery"/> on the
/// command's output, and one at the end.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>How often the plain fallback prints a line (wall time; output only, never a verdict).</summary>
    public static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(10);

    /// <summary>Whether <paramref name="output"/> is a terminal the live display can draw on.</summary>
    public static bool IsLive(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
        && AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi;

    /// <summary>Runs <paramref name="work"/>, handing it the callback to report progress with.</summary>
    public static T Run<T>(TextWriter output, string title, Func<Action<ProgressInfo>, T> work) =>
        IsLive(output) ? Live(title, work) : Plain(output, work);

    private static T Plain<T>(TextWriter output, Func<Action<ProgressInfo>, T> work)
    {
        var clock = Stopwatch.StartNew();
        var next = PlainEvery;
        ProgressInfo? last = null;
        var result = work(info =>
        {
            last = info;
            if (clock.Elapsed < next) return;
            next = clock.Elapsed + PlainEvery;
            output.WriteLine(info.Line());
        });
        if (last is not null) output.WriteLine(last.Line() + " (done)");
        return result;
    }

    // Drawn only on an interactive terminal, which a test's writer never is: checked by hand (docs/day-to-day.md).
    [ExcludeFromCodeCoverage(Justification = "needs an interactive terminal")]
    private static T Live<T>(string title, Func<Action<ProgressInfo>, T> work) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: 1);
                var result = work(info =>
                {
                    // Count box: progress in units; time box alone: progress in seconds of the box.
                    if (info.Total is { } total)
                    {
                        task.MaxValue = Math.Max(total, 1);
                        task.Value = info.Done;
                    }
                    else if (info.Box is { } box)
                    {
                        task.MaxValue = Math.Max(box.TotalSeconds, 1e-3);
                        task.Value = Math.Min(info.Elapsed.TotalSeconds, task.MaxValue);
                    }
                    task.Description = Markup.Escape($"{title}: {info.Line()["progress: ".Length..]}");
                });
                task.Value = task.MaxValue;
                task.StopTask();
                return result;
            });
}
