using System.Globalization;
using System.Text;

namespace Slipway.Core.Gates;

public sealed record TrendPoint(string Label, double Value);

/// <summary>
/// Builds a small inline SVG sparkline of a metric across releases, for the server to embed as is.
/// Labels are user data (release versions), so every text is XML-escaped; the SVG holds no script,
/// no links and no external references, and draws in <c>currentColor</c> to follow the page's theme.
/// </summary>
public static class TrendChart
{
    // Room for the first and last release under the line and the limit's label at the right; the left margin fits the
    // longer value label (at least 44 px), so "10.005 ms" is never cut to ".005 ms".
    private const double MinLeft = 44, Right = 6, Top = 6, Bottom = 16;

    /// <summary>
    /// The chart. <paramref name="threshold"/> with <paramref name="op"/> is the rule's limit: drawn as a dashed line with its
    /// value, and each point that breaks it gets class <c>breaks</c> (the page colours it). <paramref name="current"/>, the
    /// release being looked at, is drawn larger (class <c>current</c>). The first and last releases are written under the
    /// line, and the whole series is the chart's accessible name, so a reader need not hover each dot.
    /// </summary>
    public static string Svg(IReadOnlyList<TrendPoint> points, string unit, double? threshold = null, int width = 320, int height = 80,
        Comparison? op = null, string? current = null)
    {
        width = Math.Clamp(width, 80, 4000);
        height = Math.Clamp(height, 30, 2000);
        var finite = points.Where(p => double.IsFinite(p.Value)).ToList();
        var limit = threshold is { } t && double.IsFinite(t) ? t : (double?)null;
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" class=\"trend\"");
        svg.Append($" aria-label=\"{Escape(Describe(finite, unit, limit, op))}\">");
        if (finite.Count == 0)
        {
            svg.Append($"<text x=\"{N(width / 2.0)}\" y=\"{N(height / 2.0)}\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"11\" fill=\"currentColor\">no data</text></svg>");
            return svg.ToString();
        }

        var (lo, hi) = Range(finite, limit);
        var left = Math.Min(width / 2.0, Math.Max(MinLeft, 8 + 5.5 * Math.Max(Label(hi, unit).Length, Label(lo, unit).Length)));
        double X(int i) => finite.Count == 1 ? (left + width - Right) / 2 : left + i * (width - left - Right) / (finite.Count - 1);
        double Y(double v) => Top + (hi - v) / (hi - lo) * (height - Top - Bottom);

        svg.Append($"<text x=\"{N(left - 4)}\" y=\"{N(Top + 8)}\" text-anchor=\"end\" font-size=\"9\" fill=\"currentColor\">{Escape(Label(hi, unit))}</text>");
        svg.Append($"<text x=\"{N(left - 4)}\" y=\"{N(height - Bottom)}\" text-anchor=\"end\" font-size=\"9\" fill=\"currentColor\">{Escape(Label(lo, unit))}</text>");
        if (limit is { } l)
        {
            svg.Append($"<line class=\"threshold\" x1=\"{N(left)}\" y1=\"{N(Y(l))}\" x2=\"{N(width - Right)}\" y2=\"{N(Y(l))}\" stroke=\"currentColor\" stroke-opacity=\"0.6\" stroke-dasharray=\"4 3\">");
            svg.Append($"<title>threshold: {Escape(Label(l, unit))}</title></line>");
            // The limit's value written on its line, above it unless that leaves the chart.
            var labelY = Y(l) - 3 < Top + 6 ? Y(l) + 10 : Y(l) - 3;
            svg.Append($"<text class=\"threshold-label\" x=\"{N(width - Right)}\" y=\"{N(labelY)}\" text-anchor=\"end\" font-size=\"9\" fill=\"currentColor\" fill-opacity=\"0.8\">limit {Escape(Label(l, unit))}</text>");
        }
        if (finite.Count > 1)
        {
            var coords = string.Join(" ", finite.Select((p, i) => $"{N(X(i))},{N(Y(p.Value))}"));
            svg.Append($"<polyline points=\"{coords}\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\"/>");
        }
        for (var i = 0; i < finite.Count; i++)
        {
            var breaks = limit is { } bound && op is { } comparison && !MetricNumber.Holds(finite[i].Value, comparison, bound);
            var isCurrent = current is not null && finite[i].Label == current;
            var classes = string.Join(' ', new[] { breaks ? "breaks" : null, isCurrent ? "current" : null }.Where(c => c is not null));
            svg.Append($"<circle{(classes.Length > 0 ? $" class=\"{classes}\"" : "")} cx=\"{N(X(i))}\" cy=\"{N(Y(finite[i].Value))}\" r=\"{(isCurrent ? "4" : "2.5")}\" fill=\"currentColor\">");
            svg.Append($"<title>{Escape(finite[i].Label)}: {Escape(Label(finite[i].Value, unit))}{(breaks ? " (breaks the limit)" : "")}</title></circle>");
        }
        // Which end is which: the oldest release under the first dot, the newest under the last.
        svg.Append($"<text class=\"first-release\" x=\"{N(left)}\" y=\"{N(height - 3)}\" text-anchor=\"start\" font-size=\"9\" fill=\"currentColor\">{Escape(finite[0].Label)}</text>");
        if (finite.Count > 1)
            svg.Append($"<text class=\"last-release\" x=\"{N(width - Right)}\" y=\"{N(height - 3)}\" text-anchor=\"end\" font-size=\"9\" fill=\"currentColor\">{Escape(finite[^1].Label)}</text>");
        return svg.Append("</svg>").ToString();
    }

    /// <summary>The chart in words (its accessible name): every release's value, oldest first, and the limit.</summary>
    private static string Describe(IReadOnlyList<TrendPoint> points, string unit, double? limit, Comparison? op)
    {
        if (points.Count == 0) return "no data";
        var series = string.Join(", ", points.Select(p => $"{p.Label} {Label(p.Value, unit)}"));
        var rule = limit is { } l ? $"; limit {(op is { } o ? Symbol(o) + " " : "")}{Label(l, unit)}" : "";
        return $"{points.Count} release{(points.Count == 1 ? "" : "s")}, oldest first: {series}{rule}";
    }

    private static string Symbol(Comparison op) => op switch
    {
        Comparison.Less => "<", Comparison.LessOrEqual => "<=", Comparison.Greater => ">", _ => ">=",
    };

    /// <summary>The value range to draw, including the threshold, widened when flat so a constant series sits mid-height.</summary>
    private static (double Lo, double Hi) Range(List<TrendPoint> points, double? threshold)
    {
        var lo = points.Min(p => p.Value);
        var hi = points.Max(p => p.Value);
        if (threshold is { } t) (lo, hi) = (Math.Min(lo, t), Math.Max(hi, t));
        if (hi - lo < 1e-9)
        {
            var pad = Math.Abs(hi) > 0 ? Math.Abs(hi) * 0.1 : 1;
            (lo, hi) = (lo - pad, hi + pad);
        }
        return (lo, hi);
    }

    private static string Label(double value, string unit) =>
        MetricNumber.WithUnit(value, string.IsNullOrWhiteSpace(unit) ? null : unit);

    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            switch (ch)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                // Control characters are not allowed in XML 1.0; drop them rather than emit an invalid document.
                case < ' ' and not ('\t' or '\n' or '\r'): break;
                default: sb.Append(ch); break;
            }
        }
        return sb.ToString();
    }
}
