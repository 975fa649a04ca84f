using ScottPlot;

namespace IommuConformance.Runner.Reporting;

/// <summary>
/// The conformance report's charts, drawn by ScottPlot to PNG (embedded in the HTML, saved beside the Markdown):
/// steps per operation split by kind of outcome, and traces needed to find each seeded bug.
/// </summary>
internal static class Charts
{
    private static readonly (string Name, Color Color)[] Kinds =
    [
        ("OK", Color.FromHex("#4C9A2A")),
        ("error", Color.FromHex("#E69F00")),
        ("with kernel warnings", Color.FromHex("#C0392B")),
    ];

    /// <summary>
    /// Horizontal stacked bars, one per operation: steps the model answered OK, with an errno, and with kernel
    /// warnings (any errno). <paramref name="rows"/> are (operation, ok, error, warned).
    /// </summary>
    public static byte[] OutcomesPerOperation(IReadOnlyList<(string Op, long Ok, long Error, long Warned)> rows)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        for (var i = 0; i < rows.Count; i++)
        {
            var (_, ok, error, warned) = rows[i];
            double position = rows.Count - 1 - i, start = 0;
            foreach (var (value, kind) in new[] { (ok, 0), (error, 1), (warned, 2) })
            {
                if (value == 0) continue;
                bars.Add(new Bar { Position = position, ValueBase = start, Value = start + value, FillColor = Kinds[kind].Color, Size = 0.7 });
                start += value;
            }
        }
        plot.Add.Bars(bars).Horizontal = true;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i))], [.. rows.Select(r => r.Op)]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.Margins(left: 0);
        plot.Title("Steps per operation by the model's outcome");
        plot.XLabel("steps");
        plot.Legend.ManualItems.AddRange(Kinds.Select(k => new LegendItem { LabelText = k.Name, FillColor = k.Color }));
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(900, 40 + 26 * Math.Max(rows.Count, 4), ImageFormat.Png);
    }

    /// <summary>Bars, one per seeded bug: traces until the hunt found it (missing bugs drawn at the trace budget, in grey).</summary>
    public static byte[] TracesToFind(IReadOnlyList<(string Bug, int Traces, bool Found)> rows)
    {
        var plot = new Plot();
        var bars = rows.Select((r, i) => new Bar
        {
            Position = rows.Count - 1 - i,
            Value = Math.Max(r.Traces, 1),
            FillColor = r.Found ? Color.FromHex("#0072B2") : Colors.Gray,
            Label = r.Traces.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Size = 0.7,
        }).ToList();
        var plottable = plot.Add.Bars(bars);
        plottable.Horizontal = true;
        plottable.ValueLabelStyle.FontSize = 11;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i))], [.. rows.Select(r => r.Bug)]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.Margins(left: 0, right: 0.1);
        plot.Title("Traces until each seeded bug was found (hunt)");
        plot.XLabel("traces");
        return plot.GetImageBytes(900, 40 + 30 * Math.Max(rows.Count, 4), ImageFormat.Png);
    }
}
