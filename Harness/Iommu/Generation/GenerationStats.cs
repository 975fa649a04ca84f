using IommuConformance.Harness.Core.Checking;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Arbitrary = FsCheck.Arbitrary<IommuConformance.Harness.Iommu.Traces.Trace>;
using IommuConformance.Contract;
using IommuConformance.Harness.Checking;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Model;

namespace IommuConformance.Harness.Iommu.Generation;

/// <summary>
/// What a property run generates, measured on the model alone: how often each operation meets each outcome, the
/// share of steps the model refuses, the share of traces that raise each warning, trace lengths and machine
/// shapes. <see cref="Measure(CheckSettings, TraceGenSettings)"/> draws exactly the traces of the property run of
/// those settings (same FsCheck seed, sizes and count; nothing fails, so nothing is shrunk).
/// </summary>
/// <param name="Outcomes">Per operation, per outcome key (<see cref="Key"/>: errno, "+warn" when warned): steps.</param>
/// <param name="Detailed">Per operation, per detailed key (<see cref="DetailedKey"/>: errno and warning names): steps.</param>
/// <param name="WarningTraces">Per warning name: traces with at least one step raising it.</param>
/// <param name="Lengths">The length of every trace, in generation order.</param>
/// <param name="ConflictMachines">Traces whose machine has a multi-device group whose members prefer both identity and DMA.</param>
/// <param name="MixedMachines">Traces whose machine has a multi-device group whose members' preferences differ (null counts).</param>
/// <param name="MultiDeviceGroupMachines">Traces whose machine has a group key shared by two devices of one instance.</param>
public sealed record GenerationStats(
    int Traces,
    long Steps,
    long FailingSteps,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Outcomes,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Detailed,
    IReadOnlyDictionary<string, int> WarningTraces,
    ImmutableArray<int> Lengths,
    int ConflictMachines,
    int MixedMachines,
    int MultiDeviceGroupMachines)
{
    /// <summary>The outcome key of the campaign table: the errno, with "+warn" when the kernel warned.</summary>
    public static string Key(Outcome outcome) => outcome.Errno + (outcome.Warnings.IsEmpty ? "" : "+warn");

    /// <summary>The errno and the warnings raised, each once (<see cref="OutcomeCatalogue.Key(Outcome)"/>), e.g. <c>OK [set_domain_nofail_failed]</c>.</summary>
    public static string DetailedKey(Outcome outcome) => OutcomeCatalogue.Key(outcome);

    /// <summary>The catalogue the run is held to (<see cref="OutcomeCatalogue.For"/> of its generation settings).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Catalogue { get; init; } = OutcomeCatalogue.Reachable;

    /// <summary>The catalogue's reachable (operation, outcome) pairs this run never hit (but those too rare to require, <see cref="OutcomeCatalogue.Required"/>).</summary>
    public IReadOnlyList<(string Op, string Outcome)> Missing() =>
        [.. Catalogue.OrderBy(p => p.Key, StringComparer.Ordinal)
            .SelectMany(p => p.Value.Where(k => OutcomeCatalogue.Required(p.Key, k) && !(Detailed.TryGetValue(p.Key, out var row) && row.ContainsKey(k)))
                .Select(k => (p.Key, k)))];

    /// <summary>The (operation, outcome) pairs this run hit that the catalogue does not list as reachable.</summary>
    public IReadOnlyList<(string Op, string Outcome)> Unexpected() =>
        [.. Detailed.SelectMany(p => p.Value.Keys.Where(k => !(Catalogue.GetValueOrDefault(p.Key) ?? []).Contains(k)).Select(k => (p.Key, k)))];

    /// <summary>The traces of the property run of <paramref name="check"/> with <paramref name="generation"/>, measured.</summary>
    public static GenerationStats Measure(CheckSettings check, TraceGenSettings generation) =>
        Measure(TraceGen.Arbitrary(generation), check) with { Catalogue = OutcomeCatalogue.For(generation) };

    /// <summary>The traces an arbitrary yields in a property run of <paramref name="check"/>, measured.</summary>
    public static GenerationStats Measure(Arbitrary traces, CheckSettings check)
    {
        var collector = new Collector();
        PropertyCheck.Run<Trace>(traces, check, trace =>
        {
            collector.Add(trace);
            return (RunReport?)null;
        });
        return collector.Result();
    }

    /// <summary>Measures the given traces.</summary>
    public static GenerationStats Of(IEnumerable<Trace> traces)
    {
        var collector = new Collector();
        foreach (var trace in traces) collector.Add(trace);
        return collector.Result();
    }

    public double FailingShare => Steps == 0 ? 0 : (double)FailingSteps / Steps;

    /// <summary>The share of an operation's steps that met outcome <paramref name="key"/> (0 when the operation never ran).</summary>
    public double Share(string op, string key)
    {
        if (!Outcomes.TryGetValue(op, out var row)) return 0;
        var total = row.Values.Sum();
        return total == 0 ? 0 : (double)row.GetValueOrDefault(key) / total;
    }

    /// <summary>The share of traces raising warning <paramref name="warning"/>.</summary>
    public double WarningTraceShare(string warning) => Traces == 0 ? 0 : (double)WarningTraces.GetValueOrDefault(warning) / Traces;

    /// <summary>Steps of an operation.</summary>
    public int StepsOf(string op) => Outcomes.TryGetValue(op, out var row) ? row.Values.Sum() : 0;

    /// <summary>The <paramref name="p"/>-quantile (0..1) of trace lengths.</summary>
    public int LengthQuantile(double p)
    {
        if (Lengths.IsEmpty) return 0;
        var sorted = Lengths.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static readonly (int Low, int High)[] LengthBuckets = [(0, 10), (11, 25), (26, 50), (51, 100), (101, 200), (201, int.MaxValue)];

    /// <summary>The figures and tables as markdown (what docs/generation.md quotes).</summary>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        string Pct(double x) => (x * 100).ToString("F1", inv) + " %";
        text.AppendLine("| figure | value |").AppendLine("|---|---:|");
        text.AppendLine($"| traces | {Traces} |");
        text.AppendLine($"| steps | {Steps} |");
        text.AppendLine($"| trace length: mean / median / p90 / p99 / max | {(Traces == 0 ? 0 : (double)Steps / Traces).ToString("F1", inv)} / {LengthQuantile(0.5)} / {LengthQuantile(0.9)} / {LengthQuantile(0.99)} / {LengthQuantile(1)} |");
        text.AppendLine($"| trace lengths 1–10 / 11–25 / 26–50 / 51–100 / 101–200 / 201+ | {string.Join(" / ", LengthBuckets.Select(b => Lengths.Count(l => l >= b.Low && l <= b.High)))} |");
        text.AppendLine($"| steps failing in the model | {Pct(FailingShare)} |");
        text.AppendLine($"| `release_dma_owner` answering OK+warn | {Pct(Share("release_dma_owner", "OK+warn"))} |");
        text.AppendLine($"| `driver_unbind` answering ENODEV | {Pct(Share("driver_unbind", "ENODEV"))} |");
        text.AppendLine($"| machines with a multi-device group | {Pct(Traces == 0 ? 0 : (double)MultiDeviceGroupMachines / Traces)} |");
        text.AppendLine($"| machines with a group preferring identity and DMA | {Pct(Traces == 0 ? 0 : (double)ConflictMachines / Traces)} |");
        text.AppendLine($"| machines with a group of differing preferences (null counts) | {Pct(Traces == 0 ? 0 : (double)MixedMachines / Traces)} |");
        text.AppendLine();
        text.AppendLine("| warning | traces raising it |").AppendLine("|---|---:|");
        foreach (var warning in Warn.All)
            text.AppendLine($"| `{warning}` | {Pct(WarningTraceShare(warning))} ({WarningTraces.GetValueOrDefault(warning)}) |");
        text.AppendLine();
        AppendTable(text, Outcomes);
        text.AppendLine();
        text.AppendLine("| operation | outcome (with warnings) | steps |").AppendLine("|---|---|---:|");
        foreach (var (op, row) in Detailed)
            foreach (var (key, n) in row)
                text.AppendLine($"| `{op}` | {key}{((Catalogue.GetValueOrDefault(op) ?? []).Contains(key) ? "" : " (not in the catalogue)")} | {n} |");
        var missing = Missing();
        text.AppendLine().AppendLine($"Reachable outcomes never hit: {(missing.Count == 0 ? "none" : string.Join(", ", missing.Select(m => $"`{m.Op}` {m.Outcome}")))}.");
        return text.ToString();
    }

    private static void AppendTable(StringBuilder text, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> table)
    {
        var outcomes = table.Values.SelectMany(r => r.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        text.AppendLine("| operation | steps | " + string.Join(" | ", outcomes) + " |");
        text.AppendLine("|---|---:|" + string.Concat(outcomes.Select(_ => "---:|")));
        foreach (var (op, row) in table)
        {
            var total = row.Values.Sum();
            text.AppendLine($"| `{op}` | {total} | " + string.Join(" | ", outcomes.Select(o =>
                row.TryGetValue(o, out var n) ? $"{n} ({(100.0 * n / total).ToString("F0", CultureInfo.InvariantCulture)} %)" : "")) + " |");
        }
    }

    private sealed class Collector
    {
        private readonly SortedDictionary<string, SortedDictionary<string, int>> _outcomes = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, SortedDictionary<string, int>> _detailed = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _warningTraces = new(StringComparer.Ordinal);
        private readonly List<int> _lengths = [];
        private long _steps, _failing;
        private int _conflict, _mixed, _multi;

        public void Add(Trace trace)
        {
            _lengths.Add(trace.Steps.Length);
            var state = ModelState.Initial(trace.Config, trace.Topology);
            var warned = new HashSet<string>(StringComparer.Ordinal);
            foreach (var step in trace.Steps)
            {
                var (outcome, next) = state.Step(step.Op);
                state = next;
                _steps++;
                if (outcome.Errno != Errno.OK) _failing++;
                Count(_outcomes, step.Op.Name, Key(outcome));
                Count(_detailed, step.Op.Name, DetailedKey(outcome));
                foreach (var w in outcome.Warnings) warned.Add(w);
            }
            foreach (var w in warned) _warningTraces[w] = _warningTraces.GetValueOrDefault(w) + 1;
            var groups = trace.Topology.Devices.Where(d => d.Iommu is not null).GroupBy(d => (d.Iommu, d.Group))
                .Where(g => g.Count() > 1).ToArray();
            if (groups.Length > 0) _multi++;
            if (groups.Any(g => g.Any(d => d.DefDomainType == GroupTypeStrings.Identity) && g.Any(d => d.DefDomainType == GroupTypeStrings.Dma)))
                _conflict++;
            if (groups.Any(g => g.Select(d => d.DefDomainType).Distinct().Count() > 1)) _mixed++;
        }

        public GenerationStats Result() => new(
            _lengths.Count, _steps, _failing, Freeze(_outcomes), Freeze(_detailed),
            _warningTraces.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), [.. _lengths],
            _conflict, _mixed, _multi);

        private static void Count(SortedDictionary<string, SortedDictionary<string, int>> table, string op, string key)
        {
            if (!table.TryGetValue(op, out var row)) table[op] = row = new(StringComparer.Ordinal);
            row[key] = row.GetValueOrDefault(key) + 1;
        }

        private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Freeze(
            SortedDictionary<string, SortedDictionary<string, int>> table) =>
            table.ToImmutableSortedDictionary(p => p.Key, p => (IReadOnlyDictionary<string, int>)p.Value.ToImmutableSortedDictionary(StringComparer.Ordinal), StringComparer.Ordinal);
    }
}
