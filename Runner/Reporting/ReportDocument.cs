using System.Net;
using System.Text;

namespace IommuConformance.Runner.Reporting;

/// <summary>A block of the conformance report, rendered both to Markdown and to HTML from one description.</summary>
internal abstract record Block;

internal sealed record Heading(int Level, string Text) : Block;

internal sealed record Paragraph(string Text) : Block;

internal sealed record Bullets(IReadOnlyList<string> Items) : Block;

/// <summary>A table; <paramref name="Numeric"/> columns are right-aligned.</summary>
internal sealed record Table(IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows, IReadOnlySet<int> Numeric) : Block;

/// <summary>A chart: saved as <paramref name="FileName"/> beside the Markdown, embedded in the HTML.</summary>
internal sealed record Chart(string Alt, string FileName, byte[] Png) : Block;

/// <summary>Renders the blocks. Text is plain (no markup of its own): escaped for HTML, '|' escaped in Markdown tables.</summary>
internal static class ReportDocument
{
    public static string Markdown(IEnumerable<Block> blocks)
    {
        var text = new StringBuilder();
        foreach (var block in blocks)
        {
            switch (block)
            {
                case Heading h: text.AppendLine($"{new string('#', h.Level)} {h.Text}"); break;
                case Paragraph p: text.AppendLine(p.Text); break;
                case Bullets b: foreach (var item in b.Items) text.AppendLine($"- {item}"); break;
                case Chart c: text.AppendLine($"![{c.Alt}]({c.FileName})"); break;
                case Table t:
                    text.AppendLine("| " + string.Join(" | ", t.Headers.Select(Cell)) + " |");
                    text.AppendLine("|" + string.Concat(t.Headers.Select((_, i) => t.Numeric.Contains(i) ? "---:|" : "---|")));
                    foreach (var row in t.Rows) text.AppendLine("| " + string.Join(" | ", row.Select(Cell)) + " |");
                    break;
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    public static string Html(string title, IEnumerable<Block> blocks)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>").AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .AppendLine($"<title>{E(title)}</title>")
            .AppendLine("<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
                + "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px;font-size:14px}"
                + "th{background:#f2f2f2;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
                + "h1{border-bottom:2px solid #444}h2{margin-top:1.6em;border-bottom:1px solid #ccc}img{max-width:100%;border:1px solid #ddd}"
                + "code{background:#f6f6f6;padding:0 3px}</style>")
            .AppendLine("</head><body>");
        var all = blocks.ToArray();
        // A table of contents of the sections, linking to their anchors.
        var sections = all.OfType<Heading>().Where(h => h.Level == 2).ToArray();
        foreach (var block in all)
        {
            if (block is Heading { Level: 2 } first && sections.Length > 0 && ReferenceEquals(first, sections[0]))
                html.AppendLine("<nav><p>" + string.Join(" · ", sections.Select(h => $"<a href=\"#{Anchor(h.Text)}\">{E(h.Text)}</a>")) + "</p></nav>");
            switch (block)
            {
                case Heading h: html.AppendLine($"<h{h.Level} id=\"{Anchor(h.Text)}\">{E(h.Text)}</h{h.Level}>"); break;
                case Paragraph p: html.AppendLine($"<p>{E(p.Text)}</p>"); break;
                case Bullets b: html.AppendLine("<ul>" + string.Concat(b.Items.Select(i => $"<li>{E(i)}</li>")) + "</ul>"); break;
                case Chart c: html.AppendLine($"<p><img alt=\"{E(c.Alt)}\" src=\"data:image/png;base64,{Convert.ToBase64String(c.Png)}\"></p>"); break;
                case Table t:
                    html.AppendLine("<table><thead><tr>" + string.Concat(t.Headers.Select(h => $"<th>{E(h)}</th>")) + "</tr></thead><tbody>");
                    foreach (var row in t.Rows)
                        html.AppendLine("<tr>" + string.Concat(row.Select((cell, i) => t.Numeric.Contains(i) ? $"<td class=\"n\">{E(cell)}</td>" : $"<td>{E(cell)}</td>")) + "</tr>");
                    html.AppendLine("</tbody></table>");
                    break;
            }
        }
        return html.AppendLine("</body></html>").ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>A heading's anchor: lower-case ASCII letters and digits, runs of anything else as one '-'.</summary>
    public static string Anchor(string text)
    {
        var slug = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
            if (char.IsAsciiLetterOrDigit(c)) slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-') slug.Append('-');
        return slug.ToString().TrimEnd('-');
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
