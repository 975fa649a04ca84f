using IommuConformance.Contract;
using IommuConformance.Harness.Core.Checking;
using IommuConformance.Harness.Core.Execution;
using IommuConformance.Harness.Iommu.Printing;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.KernelBackend;
using IommuConformance.KernelBackend.Guest;

namespace IommuConformance.Runner.HarnessCalls;

/// <summary>How a trace ended on the kernel: agreed, disagreed, or stopped at a step userspace cannot express.</summary>
internal enum KernelVerdict { Agreed, Disagreed, ExpectMismatch, Unreachable }

/// <summary>One trace run on the kernel: verdict, step table, summary, problem, and how many steps ran.</summary>
internal sealed record KernelOutcome(KernelVerdict Verdict, string Table, string Summary, string? Problem, int Steps, RunReport<Trace> Report);

/// <summary>
/// The Runner's calls into the kernel back-end: run traces, each on a guest of its machine (booted when the previous
/// trace's machine was another; one guest alive at a time) after a verified reset, and shrink.
/// </summary>
internal sealed class KernelCall : IDisposable
{
    private readonly KernelGuestCache _guests;
    private readonly KernelBinding _binding;

    private KernelCall(KernelGuestCache guests, KernelEra era)
    {
        _guests = guests;
        _binding = new KernelBinding(guests, era);
    }

    /// <summary>
    /// The back-end for a run of <paramref name="era"/>, booting nothing yet; null with the reason when the setup
    /// artefacts are missing. Boot failures, and a booted kernel of another era, throw <see cref="KernelBackendException"/>
    /// from the first <see cref="Run(Trace)"/> of that machine.
    /// </summary>
    public static KernelCall? Open(KernelEra era, out string reason)
    {
        var artefacts = KernelArtefacts.Find(out reason);
        return artefacts is null ? null : new KernelCall(new KernelGuestCache(artefacts), era);
    }

    /// <summary>Told of every boot: the guest (its machine, release and boot time).</summary>
    public Action<KernelGuest>? Booted
    {
        get => _guests.Booted;
        set => _guests.Booted = value;
    }

    /// <summary>Every boot of the run: the machine's key and its boot time.</summary>
    public IReadOnlyList<(string Key, TimeSpan Time)> Boots => _guests.Boots;

    /// <summary>The release of the live guest's kernel ("" before the first boot).</summary>
    public string Release => _guests.Live?.Release ?? "";

    public int Requests => _guests.Requests;

    /// <summary>Told every trace as far as it ran in the guest, in order (generated traces and shrink candidates alike).</summary>
    public Action<Trace>? Journal { get; set; }

    /// <summary>Why a trace's machine cannot be booted (null when it can).</summary>
    public static string? MachineMismatch(LoadedTrace trace) =>
        KernelBackend.Machine.KernelMachine.Mismatch(trace.Trace.Config, trace.Trace.Topology)
        ?? (trace.Trace.Bugs.Length > 0 ? "seeded bugs are the emulated implementation's" : null);

    public KernelOutcome Run(LoadedTrace trace) => Run(trace.Trace);

    public KernelOutcome Run(Trace trace)
    {
        var report = CaseExecutor.Run(trace, _binding, CheckMode.Full);
        Journal?.Invoke(trace.WithSteps(trace.Steps.Take(report.Steps.Length)));
        // A dead guest is not a verdict: the caller reports it and stops.
        if (report.Problem is { Kind: ProblemKind.Threw } p && p.Message.Contains(nameof(KernelBackendException), StringComparison.Ordinal))
            throw new KernelBackendException(p.Message);
        var verdict = report.Problem switch
        {
            null => KernelVerdict.Agreed,
            { Kind: ProblemKind.Threw } t when t.Message.Contains(nameof(UnreachableStepException), StringComparison.Ordinal) => KernelVerdict.Unreachable,
            { Kind: ProblemKind.Expect } => KernelVerdict.ExpectMismatch,
            _ => KernelVerdict.Disagreed,
        };
        var steps = verdict == KernelVerdict.Unreachable ? report.Steps.Length - 1 : report.Steps.Length;
        return new KernelOutcome(verdict, StepTable.Render(report), StepTable.Summary(report), report.Problem?.Message, steps, report);
    }

    /// <summary>A generated reachable trace of <paramref name="topology"/>.</summary>
    public static Trace Generate(ulong seed, Topology topology, int maxSteps, KernelEra era) => KernelGen.Generate(seed, topology, maxSteps, era);

    /// <summary>
    /// Shrinks a disagreeing trace by re-running candidates in the guest: cut after the failing step, then delete chunks
    /// of steps (halving), keeping a candidate while it still disagrees at all (another disagreement is as good a find).
    /// </summary>
    public (Trace Trace, int Runs) Shrink(Trace trace, int failingStep)
    {
        var current = trace.WithSteps(trace.Steps.Take(failingStep + 1));
        var runs = 0;
        for (var chunk = Math.Max(1, current.Steps.Length / 2); chunk >= 1; chunk /= 2)
        {
            for (var from = current.Steps.Length - chunk; from >= 1; from--)
            {
                var candidate = KernelGen.Without(current, from, chunk);
                if (candidate.Steps.Length >= current.Steps.Length) continue;
                runs++;
                var outcome = Run(candidate);
                if (outcome.Verdict != KernelVerdict.Disagreed) continue;
                current = candidate.WithSteps(candidate.Steps.Take(outcome.Steps));
                from = Math.Min(from, current.Steps.Length - chunk + 1);
            }
            if (chunk == 1) break;
        }
        return (current, runs);
    }

    public static string Write(Trace trace) => TraceJson.Write(trace);

    /// <summary>The trace as JSON with the model's outcomes as expects (a replayable reproducer).</summary>
    public static string Reproducer(RunReport<Trace> report) => TraceJson.Write(TraceJson.WithModelExpects(report));

    public void Dispose() => _guests.Dispose();
}
